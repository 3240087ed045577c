"""Collections against fees per month, drawn as inline SVG by the template (no script,
no CDN). This only turns figures into coordinates."""

from decimal import Decimal

WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 640, 220, 12, 28, 8


def month_bars(rows):
    """rows: [{"month", "collected", "fee"}] → bars with coordinates for the template."""
    if not rows:
        return None
    peak = max([max(r["collected"], Decimal(0)) for r in rows] + [Decimal(1)])
    slot = (WIDTH - LEFT) / len(rows)
    bar = max(min(slot * 0.36, 28), 4)
    usable = HEIGHT - TOP - BOTTOM
    bars = []
    for i, r in enumerate(rows):
        collected = max(r["collected"], Decimal(0))
        fee = max(r["fee"], Decimal(0))
        h_c = float(collected / peak) * usable
        h_f = float(fee / peak) * usable
        x = LEFT + i * slot + (slot - 2 * bar - 2) / 2
        bars.append(
            {
                "month": r["month"],
                "collected": r["collected"],
                "fee": r["fee"],
                "x_c": round(x, 1),
                "x_f": round(x + bar + 2, 1),
                "y_c": round(TOP + usable - h_c, 1),
                "y_f": round(TOP + usable - h_f, 1),
                "h_c": round(h_c, 1),
                "h_f": round(h_f, 1),
                "x_label": round(LEFT + i * slot + slot / 2, 1),
            }
        )
    return {
        "bars": bars,
        "width": WIDTH,
        "height": HEIGHT,
        "bar": round(bar, 1),
        "baseline": HEIGHT - BOTTOM,
        "label_y": HEIGHT - 10,
        "peak": peak,
    }
