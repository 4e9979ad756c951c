// ISS Tracker live view: a WebSocket client that draws the map, the telemetry and the table.
// Everything it needs comes from the gateway that served it: no tiles, fonts or CDNs.
"use strict";

(function () {
  const EARTH_RADIUS_KM = 6371;
  const ORBIT_S = 93 * 60; // a little over one ISS period, for "the last orbit"
  const TRACK_GAP_S = 300; // no line is drawn across a gap in the data longer than this
  const TABLE_ROWS = 100;
  const KEEP_S = 2 * ORBIT_S;
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 15000;
  const RENDER_LOG_MAX = 20000;

  // Exposed for the browser tests and the latency benchmark.
  const live = (window.issLiveview = {
    renders: [], // {key, sequence, producer_id, kafka_ts, received_ms, rendered_ms, live}
    frames: 0,
    reconnects: 0,
    positions: [], // oldest first, all satellites, trimmed to KEEP_S
  });

  const statusEl = document.getElementById("status");
  const canvas = document.getElementById("map");
  const tbody = document.querySelector("#positions tbody");
  const countEl = document.getElementById("count");
  const telemetry = {};
  for (const dd of document.querySelectorAll("#telemetry dd")) telemetry[dd.dataset.field] = dd;

  let land = []; // rings of [lon, lat]
  let seen = new Set();
  let latest = null;
  let pendingHistory = [];
  let drawScheduled = false;

  // ---------- geometry ----------

  const rad = (d) => (d * Math.PI) / 180;
  const deg = (r) => (r * 180) / Math.PI;
  const wrapLon = (lon) => ((((lon + 180) % 360) + 360) % 360) - 180;

  function destination(lat, lon, bearingDeg, distanceKm) {
    const d = distanceKm / EARTH_RADIUS_KM;
    const p1 = rad(lat);
    const b = rad(bearingDeg);
    const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(b));
    const l2 = rad(lon) + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
    return [wrapLon(deg(l2)), deg(p2)];
  }

  // Cut a path of [lon, lat] wherever it crosses the antimeridian, interpolating the crossing
  // latitude so each piece runs to the map edge instead of across the whole map.
  function splitAtAntimeridian(points) {
    const pieces = [];
    let current = [];
    for (let i = 0; i < points.length; i++) {
      const p = points[i];
      if (current.length) {
        const q = current[current.length - 1];
        const dLon = p[0] - q[0];
        if (Math.abs(dLon) > 180) {
          const edge = q[0] > 0 ? 180 : -180;
          const unwrapped = p[0] + (q[0] > 0 ? 360 : -360);
          const t = (edge - q[0]) / (unwrapped - q[0]);
          const lat = q[1] + t * (p[1] - q[1]);
          current.push([edge, lat]);
          pieces.push(current);
          current = [[-edge, lat]];
        }
      }
      current.push(p);
    }
    if (current.length) pieces.push(current);
    return pieces;
  }

  function footprintRing(lat, lon, radiusKm) {
    const ring = [];
    for (let b = 0; b <= 360; b += 4) ring.push(destination(lat, lon, b, radiusKm));
    return ring;
  }

  // Latitude of the day/night boundary at a longitude, from the sub-solar point.
  function terminatorLat(lon, subLat, subLon) {
    const dec = Math.abs(subLat) < 0.01 ? 0.01 : subLat;
    return deg(Math.atan(-Math.cos(rad(lon - subLon)) / Math.tan(rad(dec))));
  }

  // ---------- TopoJSON (world-atlas land-110m) ----------

  function decodeTopology(topo) {
    const [sx, sy] = topo.transform ? topo.transform.scale : [1, 1];
    const [tx, ty] = topo.transform ? topo.transform.translate : [0, 0];
    const arcs = topo.arcs.map((arc) => {
      let x = 0;
      let y = 0;
      return arc.map(([dx, dy]) => {
        x += dx;
        y += dy;
        return [x * sx + tx, y * sy + ty];
      });
    });
    const ring = (indexes) => {
      const out = [];
      for (const i of indexes) {
        const arc = i >= 0 ? arcs[i] : arcs[~i].slice().reverse();
        out.push(...(out.length ? arc.slice(1) : arc));
      }
      return out;
    };
    const rings = [];
    const collect = (geometry) => {
      if (geometry.type === "GeometryCollection") geometry.geometries.forEach(collect);
      else if (geometry.type === "Polygon") geometry.arcs.forEach((r) => rings.push(ring(r)));
      else if (geometry.type === "MultiPolygon") geometry.arcs.forEach((poly) => poly.forEach((r) => rings.push(ring(r))));
    };
    Object.values(topo.objects).forEach(collect);
    return rings.map(unwrapRing);
  }

  // Make a ring's longitudes continuous (a ring crossing the antimeridian then runs past
  // +-180 and is drawn shifted by 360 degrees as well); a ring that goes all the way round a
  // pole (Antarctica) is closed along that pole.
  function unwrapRing(ring) {
    const out = [ring[0].slice()];
    for (let i = 1; i < ring.length; i++) {
      const prev = out[i - 1][0];
      let lon = ring[i][0];
      while (lon - prev > 180) lon -= 360;
      while (lon - prev < -180) lon += 360;
      out.push([lon, ring[i][1]]);
    }
    const turn = out[out.length - 1][0] - out[0][0];
    if (Math.abs(turn) > 180) {
      const pole = out.reduce((sum, p) => sum + p[1], 0) / out.length < 0 ? -90 : 90;
      out.push([out[out.length - 1][0], pole], [out[0][0], pole]);
    }
    return out;
  }

  // ---------- drawing ----------

  function project(lon, lat, w, h) {
    return [((lon + 180) / 360) * w, ((90 - lat) / 180) * h];
  }

  function pathOf(ctx, points, w, h) {
    points.forEach(([lon, lat], i) => {
      const [x, y] = project(lon, lat, w, h);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
  }

  function scheduleDraw() {
    if (drawScheduled) return;
    drawScheduled = true;
    const run = () => {
      if (!drawScheduled) return;
      drawScheduled = false;
      draw();
    };
    // Whichever comes first: a hidden tab gets no animation frames (even one requested while
    // it was visible), and a (throttled) timer still keeps its map current.
    requestAnimationFrame(run);
    setTimeout(run, 250);
  }

  function draw() {
    const ratio = window.devicePixelRatio || 1;
    const cssWidth = canvas.clientWidth || 1000;
    const w = Math.round(cssWidth * ratio);
    const h = Math.round(w / 2);
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    const ctx = canvas.getContext("2d");
    const css = getComputedStyle(document.documentElement);
    const color = (name) => css.getPropertyValue(name).trim();
    ctx.fillStyle = color("--ocean");
    ctx.fillRect(0, 0, w, h);

    ctx.fillStyle = color("--land");
    ctx.beginPath();
    for (const shift of [-360, 0, 360]) {
      for (const r of land) pathOf(ctx, r.map(([lon, lat]) => [lon + shift, lat]), w, h);
    }
    ctx.fill("evenodd");

    ctx.strokeStyle = "rgba(255,255,255,0.08)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let lon = -180; lon <= 180; lon += 30) pathOf(ctx, [[lon, -90], [lon, 90]], w, h);
    for (let lat = -60; lat <= 60; lat += 30) pathOf(ctx, [[-180, lat], [180, lat]], w, h);
    ctx.stroke();

    if (!latest) return;
    const p = latest;

    // Night side of the ground, from the sub-solar point.
    if (typeof p.subsolar_latitude === "number" && typeof p.subsolar_longitude === "number") {
      const edge = [];
      for (let lon = -180; lon <= 180; lon += 2) edge.push([lon, terminatorLat(lon, p.subsolar_latitude, p.subsolar_longitude)]);
      const darkPole = p.subsolar_latitude >= 0 ? -90 : 90;
      ctx.fillStyle = "rgba(0,0,0,0.42)";
      ctx.beginPath();
      pathOf(ctx, [[-180, darkPole], ...edge, [180, darkPole]], w, h);
      ctx.closePath();
      ctx.fill();
      const [sx, sy] = project(p.subsolar_longitude, p.subsolar_latitude, w, h);
      ctx.fillStyle = "#ffd33d";
      ctx.beginPath();
      ctx.arc(sx, sy, 5 * ratio, 0, 2 * Math.PI);
      ctx.fill();
    }

    // Ground track of the last orbit of the followed satellite.
    const since = Date.parse(p.event_time) - ORBIT_S * 1000;
    const track = [];
    let previous = null;
    ctx.strokeStyle = color("--track");
    ctx.lineWidth = 2 * ratio;
    const strokeTrack = () => {
      for (const piece of splitAtAntimeridian(track)) {
        ctx.beginPath();
        pathOf(ctx, piece, w, h);
        ctx.stroke();
      }
      track.length = 0;
    };
    for (const q of live.positions) {
      if (q.norad_id !== p.norad_id) continue;
      const t = Date.parse(q.event_time);
      if (t < since) continue;
      if (previous !== null && t - previous > TRACK_GAP_S * 1000) strokeTrack();
      track.push([q.longitude, q.latitude]);
      previous = t;
    }
    strokeTrack();

    // Footprint: the horizon circle around the sub-satellite point.
    const radius = typeof p.footprint_radius_km === "number" ? p.footprint_radius_km
      : typeof p.footprint_km === "number" ? p.footprint_km / 2 : null;
    if (radius) {
      const pieces = splitAtAntimeridian(footprintRing(p.latitude, p.longitude, radius));
      ctx.strokeStyle = color("--footprint");
      ctx.fillStyle = "rgba(88,166,255,0.15)";
      ctx.lineWidth = 1.5 * ratio;
      for (const piece of pieces) {
        ctx.beginPath();
        pathOf(ctx, piece, w, h);
        if (pieces.length === 1) ctx.fill();
        ctx.stroke();
      }
    }

    const [mx, my] = project(p.longitude, p.latitude, w, h);
    ctx.fillStyle = color("--marker");
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 2 * ratio;
    for (const x of [mx - w, mx, mx + w]) {
      // Near the antimeridian the marker shows on both edges rather than half on one.
      if (x < -10 * ratio || x > w + 10 * ratio) continue;
      ctx.beginPath();
      ctx.arc(x, my, 7 * ratio, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
    canvas.dataset.markerLat = String(p.latitude);
    canvas.dataset.markerLon = String(p.longitude);
    canvas.dataset.trackPoints = String(live.positions.length);
  }

  // ---------- telemetry and table ----------

  const fmt = (v, digits, unit) => (typeof v === "number" ? v.toFixed(digits) + (unit || "") : "–");
  const yesNo = (v, yes, no) => (v === true ? yes : v === false ? no : "–");
  const keyOf = (p) => p.norad_id + "@" + p.event_time;
  const timeOf = (iso) => iso.replace("T", " ").replace(/\.\d+Z$/, "Z");

  function showTelemetry(p) {
    const set = (field, text) => { if (telemetry[field]) telemetry[field].textContent = text; };
    set("satellite", (p.name || "NORAD") + " · " + p.norad_id);
    set("event_time", timeOf(p.event_time));
    set("latitude", fmt(p.latitude, 4, "°"));
    set("longitude", fmt(p.longitude, 4, "°"));
    set("altitude_km", fmt(p.altitude_km, 1, " km"));
    set("ground_speed_kmh", fmt(p.ground_speed_kmh, 0, " km/h"));
    set("orbital_speed_kmh", fmt(p.orbital_speed_kmh, 0, " km/h"));
    set("heading_deg", fmt(p.heading_deg, 1, "°"));
    set("footprint_radius_km", fmt(p.footprint_radius_km, 0, " km"));
    set("satellite_sunlit", yesNo(p.satellite_sunlit, "sunlit", "in Earth's shadow"));
    set("ground_daylight", yesNo(p.ground_daylight, "daylight", "night"));
    set("local_solar_time_h", typeof p.local_solar_time_h === "number"
      ? Math.floor(p.local_solar_time_h) + "h" + String(Math.floor((p.local_solar_time_h % 1) * 60)).padStart(2, "0") : "–");
    set("source", p.source || "–");
    showAge();
  }

  function showAge() {
    if (!latest || !telemetry.age) return;
    const age = (Date.now() - Date.parse(latest.event_time)) / 1000;
    telemetry.age.textContent = age < 120 ? age.toFixed(1) + " s" : Math.round(age / 60) + " min";
  }

  function rowFor(p) {
    const tr = document.createElement("tr");
    tr.dataset.key = keyOf(p);
    tr.dataset.sequence = String(p.sequence);
    const cells = [
      timeOf(p.event_time), String(p.norad_id), fmt(p.latitude, 4), fmt(p.longitude, 4), fmt(p.altitude_km, 1),
      fmt(p.ground_speed_kmh, 0), fmt(p.orbital_speed_kmh, 0), yesNo(p.satellite_sunlit, "yes", "no"),
      p.source || "–", String(p.sequence),
    ];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    return tr;
  }

  function trimTable() {
    while (tbody.rows.length > TABLE_ROWS) tbody.deleteRow(-1);
    countEl.textContent = String(tbody.rows.length);
  }

  function remember(p) {
    live.positions.push(p);
    const cutoff = Date.parse(p.event_time) - KEEP_S * 1000;
    let drop = 0;
    while (drop < live.positions.length && Date.parse(live.positions[drop].event_time) < cutoff) drop++;
    if (drop) live.positions.splice(0, drop);
  }

  function logRender(p, kafkaTs, receivedMs, isLive) {
    live.renders.push({
      key: keyOf(p), sequence: p.sequence, producer_id: p.producer_id, kafka_ts: kafkaTs,
      received_ms: receivedMs, rendered_ms: Date.now(), live: isLive,
    });
    if (live.renders.length > RENDER_LOG_MAX) live.renders.splice(0, live.renders.length - RENDER_LOG_MAX);
  }

  function isNewer(p) {
    return !latest || p.norad_id !== latest.norad_id || Date.parse(p.event_time) >= Date.parse(latest.event_time);
  }

  function onPosition(p, kafkaTs, receivedMs) {
    const key = keyOf(p);
    if (seen.has(key)) return;
    seen.add(key);
    tbody.insertBefore(rowFor(p), tbody.firstChild);
    trimTable();
    logRender(p, kafkaTs, receivedMs, true);
    remember(p);
    if (isNewer(p)) {
      latest = p;
      showTelemetry(p);
    }
    scheduleDraw();
  }

  function onHistory(frame) {
    if (frame.first) pendingHistory = [];
    pendingHistory.push(...frame.positions);
    if (!frame.last) return;
    // The history replaces whatever the page had: after a reconnect it is the truth.
    seen = new Set();
    live.positions = [];
    latest = null;
    tbody.replaceChildren();
    const rows = document.createDocumentFragment();
    const recent = pendingHistory.slice(-TABLE_ROWS).reverse();
    for (const p of pendingHistory) {
      seen.add(keyOf(p));
      remember(p);
      if (isNewer(p)) latest = p;
    }
    for (const p of recent) rows.appendChild(rowFor(p));
    tbody.appendChild(rows);
    trimTable();
    for (const p of recent) logRender(p, null, null, false);
    pendingHistory = [];
    if (latest) showTelemetry(latest);
    scheduleDraw();
  }

  // ---------- connection ----------

  let attempt = 0;

  function setStatus(state, text) {
    statusEl.dataset.state = state;
    statusEl.dataset.reconnects = String(live.reconnects);
    statusEl.textContent = text;
  }

  function connect() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
    setStatus("connecting", attempt ? "reconnecting…" : "connecting…");
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (err) {
      retry();
      return;
    }
    ws.onopen = () => {
      if (attempt > 0 || live.everConnected) live.reconnects += 1;
      live.everConnected = true;
      attempt = 0;
      setStatus("open", "live");
    };
    ws.onmessage = (event) => {
      const receivedMs = Date.now();
      live.frames += 1;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      if (frame.type === "position") onPosition(frame.position, frame.kafka_ts, receivedMs);
      else if (frame.type === "history") onHistory(frame);
    };
    ws.onclose = () => retry();
  }

  function retry() {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
    const delay = Math.round(base * (0.5 + Math.random() / 2));
    attempt += 1;
    setStatus("closed", "disconnected · retrying in " + (delay / 1000).toFixed(1) + " s");
    setTimeout(connect, delay);
  }

  // ---------- start ----------

  fetch("land-110m.json")
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(r.statusText))))
    .then((topo) => {
      land = decodeTopology(topo);
      canvas.dataset.landRings = String(land.length);
      scheduleDraw();
    })
    .catch(() => { canvas.dataset.landRings = "0"; });
  window.addEventListener("resize", scheduleDraw);
  setInterval(showAge, 1000);
  scheduleDraw();
  connect();
})();
