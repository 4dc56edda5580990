"""Demo data: a seeded generator of several agencies' exports about one synthetic population."""

from fusionhub.demo.generator import GROUND_TRUTH, MANIFEST, PERSONS, generate
from fusionhub.demo.layouts import LAYOUT, LAYOUTS
from fusionhub.demo.names import DemoDataMissing, default_data_dir
from fusionhub.demo.variation import KINDS, VariationRates

__all__ = [
    "GROUND_TRUTH",
    "KINDS",
    "LAYOUT",
    "LAYOUTS",
    "MANIFEST",
    "PERSONS",
    "DemoDataMissing",
    "VariationRates",
    "default_data_dir",
    "generate",
]
