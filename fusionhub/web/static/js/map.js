// Map island: the offline base layer (neighbourhood boundaries served by the app, no
// internet tiles) with the points of what the page shows.
(function () {
  "use strict";
  const box = document.getElementById("map");
  if (!box || !window.L) return;
  const points = JSON.parse(box.dataset.points || "[]");
  const map = window.L.map(box, { attributionControl: true, zoomControl: true });
  map.attributionControl.setPrefix(false);
  const markers = window.L.featureGroup();
  points.forEach(function (p) {
    const marker = window.L.circleMarker([p.lat, p.lon], { radius: 7, color: "#a40e26", weight: 2, fillOpacity: 0.7 });
    marker.bindTooltip(p.label || (p.lat + ", " + p.lon));
    if (p.href) marker.on("click", function () { window.location.assign(p.href); });
    markers.addLayer(marker);
  });
  fetch(box.dataset.basemap, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (geojson) {
      const base = window.L.geoJSON(geojson, {
        style: { color: "#57606a", weight: 1, fillColor: "#eef1f4", fillOpacity: 0.6 },
        onEachFeature: function (f, layer) { if (f.properties && f.properties.name) layer.bindTooltip(f.properties.name); },
      }).addTo(map);
      map.attributionControl.addAttribution("Neighbourhoods: City of St. Louis (CC BY 4.0)");
      markers.addTo(map);
      if (points.length) {
        map.fitBounds(markers.getBounds().pad(0.5), { maxZoom: 13 });
      } else {
        map.fitBounds(base.getBounds());
      }
    })
    .catch(function () {
      markers.addTo(map);
      if (points.length) map.fitBounds(markers.getBounds().pad(0.5), { maxZoom: 13 });
    });
})();
