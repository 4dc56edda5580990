"""The four demo sources, each with its own export layout, as its real counterpart would send it.

- ``demo-stl-rms``, a St. Louis area RMS: one row per person in an incident report;
  ``LAST, FIRST M`` names, ``MM/DD/YYYY`` dates, ``(314) 555-0101`` phones.
- ``demo-hou-cad``, a Houston area CAD: one row per call with its contact; separate
  first/middle/last names, ISO dates, ``713.555.0101`` phones.
- ``demo-chi-lpr``, a Chicago area LPR feed: one row per plate read: plate, state,
  camera, UTC time, lat/lon, confidence.
- ``demo-brk-jail``, a Berkeley area jail: one row per booking; DOB as ``DD-MM-YYYY``
  (or ``YYYYMMDD`` from the old system), aliases.

Each row builder gets the persons as the record writes them (see ``generator.PersonView``).
"""

from __future__ import annotations

from dataclasses import dataclass

#: offence code (NIBRS) and description
RMS_OFFENSES = (
    ("13A", "AGGRAVATED ASSAULT"),
    ("13B", "SIMPLE ASSAULT"),
    ("13C", "INTIMIDATION"),
    ("23F", "THEFT FROM MOTOR VEHICLE"),
    ("23H", "LARCENY - ALL OTHER"),
    ("240", "MOTOR VEHICLE THEFT"),
    ("220", "BURGLARY/BREAKING AND ENTERING"),
    ("120", "ROBBERY"),
    ("290", "DESTRUCTION/DAMAGE/VANDALISM OF PROPERTY"),
    ("35A", "DRUG/NARCOTIC VIOLATIONS"),
    ("520", "WEAPON LAW VIOLATIONS"),
    ("26A", "FALSE PRETENSES/SWINDLE/CONFIDENCE GAME"),
    ("90D", "DRIVING UNDER THE INFLUENCE"),
    ("90Z", "ALL OTHER OFFENSES"),
)
RMS_INVOLVEMENT = (("SUSP", 0.5), ("VICT", 0.3), ("WITN", 0.2))
CAD_CALL_TYPES = (
    ("DISTURBANCE", "3"),
    ("SUSPICIOUS PERSON", "3"),
    ("THEFT REPORT", "4"),
    ("ALARM - BURGLAR", "2"),
    ("TRAFFIC STOP", "4"),
    ("WELFARE CHECK", "3"),
    ("ASSAULT IN PROGRESS", "1"),
    ("SHOTS FIRED", "1"),
    ("DOMESTIC DISTURBANCE", "2"),
    ("RECKLESS DRIVER", "3"),
)
CAD_DISPOSITIONS = ("REPORT WRITTEN", "ADVISED", "GONE ON ARRIVAL", "ARREST MADE", "NO REPORT", "CITATION ISSUED")
CAD_ROLES = (("CALLER", 0.45), ("SUBJECT", 0.4), ("WITNESS", 0.15))
JAIL_CHARGES = (
    ("PC 459", "BURGLARY"),
    ("PC 484(A)", "PETTY THEFT"),
    ("PC 245(A)(1)", "ASSAULT WITH A DEADLY WEAPON"),
    ("HS 11350(A)", "POSSESSION OF A CONTROLLED SUBSTANCE"),
    ("VC 23152(A)", "DUI ALCOHOL"),
    ("PC 211", "ROBBERY"),
    ("VC 10851(A)", "VEHICLE THEFT"),
    ("PC 273.5(A)", "CORPORAL INJURY ON SPOUSE"),
    ("PC 148(A)(1)", "RESISTING A PEACE OFFICER"),
    ("PC 1203.2", "PROBATION VIOLATION"),
)
JAIL_AGENCIES = ("BERKELEY PD", "UC POLICE", "ALAMEDA CO SO", "CHP OAKLAND")


@dataclass(frozen=True)
class Layout:
    key: str
    source: str
    agency: str
    agency_name: str
    kind: str
    city: str
    file_name: str
    profile: str
    columns: tuple[str, ...]
    #: share of the demo's rows this source sends
    weight: float


LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "stl_rms",
        "demo-stl-rms",
        "DEMO-STL",
        "St. Louis area police department (demo)",
        "rms",
        "stl",
        "demo_stl_rms.csv",
        "demo_stl_rms",
        (
            "INCIDENT_NO",
            "SUBJ_SEQ",
            "REPORT_DT",
            "OFFENSE_CODE",
            "OFFENSE_DESC",
            "INC_ADDRESS",
            "INC_LAT",
            "INC_LON",
            "DISTRICT",
            "INVOLVEMENT",
            "SUBJ_NAME",
            "SUBJ_SEX",
            "SUBJ_DOB",
            "SUBJ_ADDRESS",
            "SUBJ_PHONE",
            "SUBJ_DL",
            "VEH_PLATE",
            "VEH_STATE",
            "VEH_MAKE",
            "VEH_MODEL",
            "VEH_YEAR",
            "VEH_COLOR",
            "VEH_VIN",
            "NARRATIVE",
        ),
        0.35,
    ),
    Layout(
        "hou_cad",
        "demo-hou-cad",
        "DEMO-HOU",
        "Houston area police department (demo)",
        "cad",
        "hou",
        "demo_hou_cad.csv",
        "demo_hou_cad",
        (
            "call_id",
            "received_at",
            "call_type",
            "priority",
            "disposition",
            "block_address",
            "beat",
            "longitude",
            "latitude",
            "contact_role",
            "first_name",
            "middle_name",
            "last_name",
            "dob",
            "sex",
            "contact_phone",
            "contact_address",
        ),
        0.25,
    ),
    Layout(
        "chi_lpr",
        "demo-chi-lpr",
        "DEMO-CHI",
        "Chicago area licence plate reader network (demo)",
        "lpr",
        "chi",
        "demo_chi_lpr.csv",
        "demo_chi_lpr",
        (
            "read_id",
            "plate",
            "plate_state",
            "camera_id",
            "camera_name",
            "read_time_utc",
            "latitude",
            "longitude",
            "confidence",
        ),
        0.25,
    ),
    Layout(
        "brk_jail",
        "demo-brk-jail",
        "DEMO-BRK",
        "Berkeley area county jail (demo)",
        "jail",
        "brk",
        "demo_brk_jail.csv",
        "demo_brk_jail",
        (
            "BookingNumber",
            "BookingDateTime",
            "LastName",
            "FirstName",
            "MiddleName",
            "DOB",
            "Sex",
            "AKA",
            "ChargeCode",
            "Charge",
            "ArrestingAgency",
            "HomeAddress",
            "Phone",
            "DLNumber",
            "DLState",
        ),
        0.15,
    ),
)
LAYOUT = {layout.key: layout for layout in LAYOUTS}


def phone_as(digits: str, style: str) -> str:
    """Ten digits written the way a source writes them."""
    a, b, c = digits[:3], digits[3:6], digits[6:]
    return {
        "paren": f"({a}) {b}-{c}",
        "dash": f"{a}-{b}-{c}",
        "dot": f"{a}.{b}.{c}",
        "plain": digits,
        "intl": f"+1 {a} {b} {c}",
        "tight": f"({a}){b}-{c}",
    }[style]


#: The phone style each source normally uses, and the ones it falls into sometimes.
PHONE_STYLES = {
    "stl_rms": ("paren", ("dash", "plain")),
    "hou_cad": ("dot", ("intl", "tight")),
    "brk_jail": ("plain", ("dash", "paren")),
}
