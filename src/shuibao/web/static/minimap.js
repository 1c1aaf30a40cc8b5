// Map helpers shared by the map page and the small maps (位置图) of the district, project and case pages
// (loaded after leaflet.js and app.js): the configured base map, the coordinate readout, district labels, and
// minimap() itself.  Coordinates are CGCS2000 (EPSG:4490) longitude/latitude, served as CRS84.

// disturbance patches by compliance category, on the map page and the small maps
const CATEGORY_COLOURS = {compliant: "#2a9d3f", out_of_bounds: "#f4a300", unapproved: "#d62828", relocated: "#7b2cbf",
                          not_project: "#888888"};
// the words the small maps need, from the page's W (i18n.py)
const MINIMAP_WORDS = ["lon", "lat", "tap_coords", "minimap", "this_district", "other_districts", "current_area", "superseded_area",
                       "project_patches", "case_patch", "case_district", "no_place", "patch", "period", "category"];

// The base map of settings.py (SHUIBAO_BASEMAP_URL or 天地图), one layer group; null when none is configured.
function baseMapLayer(config) {
  if (!config || !config.layers || !config.layers.length) return null;
  const layers = config.layers.map(t => {
    const options = {maxZoom: 18, zIndex: 0, attribution: esc(t.attribution || "")};
    if (t.subdomains && t.subdomains.length) options.subdomains = t.subdomains;
    if (t.referrerPolicy) options.referrerPolicy = t.referrerPolicy;  // 天地图 checks the origin of a browser key
    return L.tileLayer(t.url, options);
  });
  const group = L.layerGroup(layers);
  group.isBaseMap = true;
  return group;
}

// The pointer's longitude and latitude (degrees, 5 decimals: about 1 m), bottom right.  A touch screen has no
// pointer to follow (its taps' emulated mouse moves land on controls and off the map too): there a tap on the
// map shows the tapped point until the next one, and a hint says so before the first.
function coordinateReadout(map, words) {
  const control = L.control({position: "bottomright"});
  control.onAdd = () => {
    const box = L.DomUtil.create("div", "coords leaflet-control");
    box.id = "coords";
    const touch = window.matchMedia("(hover: none)").matches;
    const show = ll => {
      box.textContent = ll ? `CGCS2000 ${words.lon} ${ll.lng.toFixed(5)}° ${words.lat} ${ll.lat.toFixed(5)}°`
                           : touch && words.tap_coords ? words.tap_coords : `CGCS2000 ${words.lon} —  ${words.lat} —`;
      box.dataset.lon = ll ? ll.lng.toFixed(5) : ""; box.dataset.lat = ll ? ll.lat.toFixed(5) : "";
    };
    show(null);
    if (touch) map.on("preclick", e => show(e.latlng));  // preclick: a tap on a district too (its click stays its own)
    else { map.on("mousemove", e => show(e.latlng)); map.on("mouseout", () => show(null)); }
    return box;
  };
  return control;
}

// On a phone (the layout's 600 px, app.css) the map's controls fold away and stack in the corners.
const phoneLayout = () => window.matchMedia("(max-width: 600px)").matches;

// ---- label points: the largest part's centroid when it lies well inside, else the inside point of a grid
// farthest from the edges (a district of the mountains is rarely convex)
function _polygons(g) { return !g ? [] : g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : []; }
function _ringArea(r) { let a = 0; for (let i = 0, j = r.length - 1; i < r.length; j = i++) a += (r[j][0] + r[i][0]) * (r[j][1] - r[i][1]); return Math.abs(a / 2); }
function _inRing(p, r) {
  let inside = false;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
    const [xi, yi] = r[i], [xj, yj] = r[j];
    if ((yi > p[1]) !== (yj > p[1]) && p[0] < (xj - xi) * (p[1] - yi) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
function _inPolygon(p, poly) { return _inRing(p, poly[0]) && !poly.slice(1).some(h => _inRing(p, h)); }
function _edgeDistance(p, poly) {
  let best = Infinity;
  for (const r of poly) for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
    const [ax, ay] = r[j], [bx, by] = r[i], dx = bx - ax, dy = by - ay, len = dx * dx + dy * dy;
    const t = len ? Math.max(0, Math.min(1, ((p[0] - ax) * dx + (p[1] - ay) * dy) / len)) : 0;
    const ex = ax + t * dx - p[0], ey = ay + t * dy - p[1];
    best = Math.min(best, ex * ex + ey * ey);
  }
  return Math.sqrt(best);
}
function labelPoint(geometry) {
  const polys = _polygons(geometry);
  if (!polys.length) return null;
  const poly = polys.reduce((a, b) => (_ringArea(a[0]) >= _ringArea(b[0]) ? a : b));
  const ring = poly[0];
  let cx = 0, cy = 0, a = 0, minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const f = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
    cx += (ring[j][0] + ring[i][0]) * f; cy += (ring[j][1] + ring[i][1]) * f; a += f;
    minX = Math.min(minX, ring[i][0]); maxX = Math.max(maxX, ring[i][0]); minY = Math.min(minY, ring[i][1]); maxY = Math.max(maxY, ring[i][1]);
  }
  let best = null, far = -1;
  const N = 12;
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) {
    const p = [minX + (i + 0.5) * (maxX - minX) / N, minY + (j + 0.5) * (maxY - minY) / N];
    if (!_inPolygon(p, poly)) continue;
    const d = _edgeDistance(p, poly);
    if (d > far) { far = d; best = p; }
  }
  if (a) {
    const c = [cx / (3 * a), cy / (3 * a)];
    if (_inPolygon(c, poly) && _edgeDistance(c, poly) >= 0.5 * far) best = c;
  }
  return best ? L.latLng(best[1], best[0]) : null;
}

// District names as a layer of labels that never take a click (the polygons under them do); at each zoom a
// label shows only where it fits inside its district and overlaps no bigger district's label.
function districtLabels(map, collection, nameOf) {
  if (!map.getPane("labels")) { map.createPane("labels"); map.getPane("labels").style.zIndex = 450; }
  const group = L.layerGroup();
  const items = [];
  for (const f of collection.features || []) {
    const at = labelPoint(f.geometry);
    if (!at) continue;
    const code = f.properties.district_code;
    const marker = L.marker(at, {pane: "labels", interactive: false, keyboard: false,
      icon: L.divIcon({className: "district-label", html: `<span data-code="${esc(code)}">${esc(nameOf(code))}</span>`, iconSize: null})});
    const b = L.geoJSON(f.geometry).getBounds();
    items.push({marker, bounds: b, size: (b.getEast() - b.getWest()) * (b.getNorth() - b.getSouth())});
    group.addLayer(marker);
  }
  items.sort((x, y) => y.size - x.size);
  const place = () => {
    if (!map.hasLayer(group)) return;
    const placed = [];
    let shown = 0;
    for (const it of items) {
      const el = it.marker.getElement();
      if (!el) continue;
      const span = el.firstChild;
      span.style.visibility = "hidden"; el.style.display = "";
      const w = span.offsetWidth, h = span.offsetHeight;
      const c = map.latLngToContainerPoint(it.marker.getLatLng());
      const nw = map.latLngToContainerPoint(it.bounds.getNorthWest()), se = map.latLngToContainerPoint(it.bounds.getSouthEast());
      const box = [c.x - w / 2 - 2, c.y - h / 2 - 2, c.x + w / 2 + 2, c.y + h / 2 + 2];
      const fits = w <= 0.9 * (se.x - nw.x) && h <= 0.9 * (se.y - nw.y);
      const free = !placed.some(o => box[0] < o[2] && o[0] < box[2] && box[1] < o[3] && o[1] < box[3]);
      const on = fits && free;
      span.style.visibility = ""; el.style.display = on ? "" : "none";
      if (on) { placed.push(box); shown++; }
    }
    document.body.dataset.districtLabels = String(shown);
  };
  group.on("add", () => setTimeout(place, 0));
  map.on("zoomend", place);
  group.place = place;
  return group;
}

// A small map of a page: the base map (if configured), a scale bar, the coordinate readout and the given
// layers, fitted to the ones marked `fit`, with a legend line per layer.  layers: [{geojson, style, label, fit,
// point}] (style: a Leaflet path style or a function of the feature).  Sets data-features (how many were drawn)
// and data-ready on the element.
function minimap(el, layers, options = {}) {
  const words = options.words || {};
  const map = L.map(el, {scrollWheelZoom: false, attributionControl: true});
  map.attributionControl.setPrefix("Leaflet");
  // on a phone the scale bar sits over the readout in one corner (a bottom corner stacks the later one above)
  if (words.lon) coordinateReadout(map, words).addTo(map);
  L.control.scale({metric: true, imperial: false, maxWidth: 120, position: phoneLayout() ? "bottomright" : "bottomleft"}).addTo(map);
  const base = baseMapLayer(options.basemap);
  if (base) base.addTo(map);
  let bounds = null, count = 0;
  const legend = [];
  for (const spec of layers) {
    if (!spec.geojson || !(spec.geojson.features || []).length) continue;
    const layer = L.geoJSON(spec.geojson, {
      style: spec.style,
      pointToLayer: (f, ll) => L.circleMarker(ll, {radius: 5, ...(typeof spec.style === "function" ? spec.style(f) : spec.style)}),
      onEachFeature: spec.popup ? (f, l) => l.bindPopup(spec.popup(f)) : undefined,
    }).addTo(map);
    count += spec.geojson.features.filter(f => f.geometry).length;
    if (spec.fit && layer.getLayers().length) bounds = bounds ? bounds.extend(layer.getBounds()) : layer.getBounds();
    for (const [colour, text, how] of spec.legend || [])  // how: "fill", "dashed" or a plain line
      legend.push(`<span class="legend-entry" data-layer="${esc(spec.id || "")}">` + (how === "fill" ? `<span class="swatch" style="background:${colour}"></span>`
        : `<span class="swatch line${how === "dashed" ? " dashed" : ""}" style="border-color:${colour}"></span>`) + `${esc(text)}</span>`);
  }
  if (bounds && bounds.isValid()) map.fitBounds(bounds, {padding: [12, 12], maxZoom: options.maxZoom || 15, animate: false});
  else map.setView([29.8, 107.7], 6);
  if (legend.length) {
    const control = L.control({position: "bottomleft"});
    control.onAdd = () => { const box = L.DomUtil.create("div", "legend minimap-legend leaflet-control-layers"); box.innerHTML = legend.join(" "); return box; };
    control.addTo(map);
  }
  if (!count && words.no_place) {
    const note = document.createElement("p"); note.className = "minimap-empty"; note.textContent = words.no_place;
    el.after(note);
  }
  el.dataset.features = String(count);
  el.dataset.ready = "1";
  return map;
}

// The patches of a small map: by category, with a legend entry for each category present.
function patchSpec(collection, words) {
  const cats = [...new Set(collection.features.map(f => f.properties.category || ""))];
  return {id: "patches", geojson: collection, fit: true,
          style: f => ({color: CATEGORY_COLOURS[f.properties.category] || "#333333", weight: 2, fillOpacity: 0.6}),
          popup: f => `<b translate="no">${esc(f.properties.patch_code)}</b> ${esc(f.properties.period || "")}<br>${esc(words.category)}: ${esc(labelOf("compliance", f.properties.category) || "—")}`,
          legend: cats.map(c => [CATEGORY_COLOURS[c] || "#333333", `${words.patch}${LANG === "en" ? ": " : "："}${labelOf("compliance", c) || "—"}`, "fill"])};
}
function byLayer(collection, name, test = () => true) {
  return {type: "FeatureCollection", features: collection.features.filter(f => f.properties.layer === name && test(f))};
}
