"""A result as a picture: the six pillars as bars against the level cut-offs, as PNG bytes.

matplotlib is imported here only, when a result is drawn, so the bot starts fast.
"""

import io

from sme_bot.messages import say
from sme_bot.scoring import Result

_LEVEL_COLOURS = ["#c0392b", "#e67e22", "#f1c40f", "#7dbb42", "#27ae60", "#1e8449"]


def result_png(result: Result, lang: str, *, cutoffs: list[float]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    names = [p.name(lang) for p in result.pillars][::-1]
    percents = [p.percent for p in result.pillars][::-1]
    colours = [_LEVEL_COLOURS[min(p.level, len(_LEVEL_COLOURS) - 1)] for p in result.pillars][::-1]
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=100)
    try:
        bars = axes.barh(names, percents, color=colours)
        for cutoff in cutoffs:
            axes.axvline(cutoff, color="#999999", linewidth=0.8, linestyle="--")
        for bar, percent in zip(bars, percents, strict=True):
            axes.text(min(percent + 1, 92), bar.get_y() + bar.get_height() / 2, f"{percent:.0f}%", va="center")
        axes.set_xlim(0, 100)
        axes.set_title(f"{say('result_title', lang, level=result.level, name=result.level_name(lang))}\n"
                       f"{say('tg_chart_title', lang)}", fontsize=11)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)
