"""A result as a picture: the six pillars as bars against the level cut-offs, as PNG bytes.

matplotlib is imported here only, when a result is drawn, so the bot starts fast. It uses
Figure directly rather than pyplot, which keeps global state, so drawing can run in a thread.
"""

import io

from sme_bot.messages import say
from sme_bot.questionnaire import Level
from sme_bot.render import cutoffs as named_cutoffs
from sme_bot.render import level_colour
from sme_bot.scoring import Result


def result_png(result: Result, lang: str, *, levels: tuple[Level, ...]) -> bytes:
    """The chart; each level's pillar threshold is a line marked with its level (M1, M2…), and the
    levels' names and thresholds are spelt out under the chart."""
    from matplotlib.figure import Figure
    from matplotlib.transforms import blended_transform_factory

    names = [p.name(lang) for p in result.pillars][::-1]
    percents = [p.percent for p in result.pillars][::-1]
    colours = [level_colour(p.level) for p in result.pillars][::-1]
    figure = Figure(figsize=(8, 4.8), dpi=100)
    axes = figure.subplots()
    bars = axes.barh(names, percents, color=colours)
    marks = named_cutoffs(levels, lang)
    on_top = blended_transform_factory(axes.transData, axes.transAxes)
    for level, cutoff, _ in marks:
        axes.axvline(cutoff, color="#999999", linewidth=0.8, linestyle="--")
        axes.text(cutoff, 1.01, say("web_chart_cutoff", lang, level=level), transform=on_top, ha="center",
                  va="bottom", fontsize=8, color="#555555")
    for bar, percent in zip(bars, percents, strict=True):
        axes.text(min(percent + 1, 92), bar.get_y() + bar.get_height() / 2, f"{percent:.0f}%", va="center")
    axes.set_xlim(0, 100)
    axes.set_title(f"{say('result_title', lang, level=result.level, name=result.level_name(lang))}\n"
                   f"{say('chart_title', lang)}", fontsize=11, pad=16)
    axes.spines[["top", "right"]].set_visible(False)
    legend = " · ".join(label for _, _, label in marks)
    figure.text(0.5, 0.02, legend, ha="center", va="bottom", fontsize=8, color="#555555")
    # Fixed margins: tight_layout measures every label and doubles the drawing time.
    figure.subplots_adjust(left=0.36, right=0.97, top=0.83, bottom=0.14)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
