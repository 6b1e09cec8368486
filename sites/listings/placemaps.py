"""Small folium maps of a listing's place: its 1 km cell, and "my place" with what is around."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from jinja2 import Template
from markupsafe import escape

from core import grid
from core.maps import MapParts, local_map, map_parts

if TYPE_CHECKING:
    import folium

CELL_STYLE = {"color": "#000091", "weight": 3, "fillOpacity": 0.08, "dashArray": "6 4"}
#: Marker colours per kind (the list beside the map says the same in words).
KIND_COLOURS = {"job": "#8a3b00", "business": "#00622b", "leisure": "#6a1b9a", "poi": "#333333"}


#: A popup from a fixed HTML string (folium's own Popup builds it with jQuery, never loaded here).
LINK_POPUP = Template(
    "{% macro script(this, kwargs) %}"
    "{{ this._parent.get_name() }}.bindPopup({{ this.html|tojson }});"
    "{% endmacro %}"
)


def _link_popup(html: str) -> folium.MacroElement:
    from branca.element import MacroElement  # noqa: PLC0415 - heavy: folium's, with a map

    popup = MacroElement()
    popup._name, popup._template, popup.html = "LinkPopup", LINK_POPUP, html
    return popup


def _static(lat: float, lon: float, zoom: int, avoid=None) -> folium.Map:
    # A picture rather than a tool: no dragging or zooming that would trap a finger or a keyboard.
    return local_map(
        avoid=avoid,
        location=[lat, lon],
        zoom_start=zoom,
        dragging=False,
        scroll_wheel_zoom=False,
        touch_zoom=False,
        double_click_zoom=False,
        box_zoom=False,
        keyboard=False,
        zoom_control=False,
    )


def cell_map(lon: float, lat: float, cell_id: str) -> MapParts:
    """The listing's point in its 1 km cell (the square drawn dashed), centred on the cell: the
    point lies inside it, and the whole square stays in the frame wherever the point is."""
    import folium  # noqa: PLC0415 - heavy: imported when a page draws a map

    ring = [(y, x) for x, y in grid.polygon(cell_id, 4326)]
    corners = ring[:-1]  # a closed ring: its first corner twice
    centre = (sum(p[0] for p in corners) / 4, sum(p[1] for p in corners) / 4)
    # Zoom 13: the square (about 75 px) with its surroundings and the nearest names, none of
    # them under the listing's dot (listings gather around a bourg, where its name is written).
    fmap = _static(*centre, 13, avoid=[(lat, lon)])
    folium.Polygon(ring, **CELL_STYLE).add_to(fmap)
    folium.CircleMarker(
        [lat, lon],
        radius=7,
        color="#ffffff",
        weight=2,
        fill=True,
        fill_color="#b00020",
        fill_opacity=1,
    ).add_to(fmap)
    return map_parts(fmap)


def place_map(lon: float, lat: float, radius_km: int, items) -> MapParts:
    """ "My place": the property, the chosen radius, and each opportunity as a marker whose popup
    links to its page. `items` are (kind, title, url, lon, lat)."""
    import folium  # noqa: PLC0415 - heavy: imported when a page draws a map

    # Zoom so that the radius fits a phone's width: about 2^(14 - log2(km)).
    zoom = max(8, min(14, round(14 - math.log2(max(radius_km, 1)))))
    fmap = local_map(
        avoid=[(lat, lon)], location=[lat, lon], zoom_start=zoom, scroll_wheel_zoom=False
    )
    folium.Circle(
        [lat, lon], radius=radius_km * 1000, color="#000091", weight=2, fill=False
    ).add_to(fmap)
    for kind, title, url, x, y in items:
        colour = KIND_COLOURS.get(kind, "#333333")
        marker = folium.CircleMarker(
            [y, x],
            radius=6,
            color="#ffffff",
            weight=1,
            fill=True,
            fill_color=colour,
            fill_opacity=0.95,
        )
        marker.add_child(_link_popup(f'<a href="{escape(url)}">{escape(title)}</a>'))
        marker.add_to(fmap)
    folium.CircleMarker(
        [lat, lon],
        radius=9,
        color="#ffffff",
        weight=3,
        fill=True,
        fill_color="#b00020",
        fill_opacity=1,
    ).add_to(fmap)
    return map_parts(fmap)
