"""The launch check report as a screen: steps worst first, each item's status, why and fix."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from wizard.checklist.report import LABEL, describe, ordered_steps, summary_line, verdict, where
from wizard.checklist.results import ItemResult, Report, Status

# Theme variables only, so every theme and NO_COLOR stay readable; the label says it in words too.
STATUS_STYLE = {
    "fail": "bold $error",
    "error": "bold $error",
    "warn": "bold $warning",
    "skipped": "$text-muted",
    "acknowledged": "$success",
    "pass": "$success",
}
STATUS_WORDS = {
    "fail": "Fails",
    "error": "Could not run",
    "warn": "Warning",
    "skipped": "Skipped",
    "acknowledged": "Acknowledged warning",
    "pass": "Passes",
}
SUMMARY: tuple[tuple[Status, str], ...] = (
    ("fail", "failed"),
    ("error", "could not run"),
    ("warn", "warned"),
    ("skipped", "skipped"),
    ("acknowledged", "acknowledged"),
    ("pass", "passed"),
)
MAX_FINDINGS = 40


class CheckReportScreen(Screen[None]):
    """The report: a list of items grouped by step, and the highlighted item's details."""

    # Side by side when wide; Textual declares this as an instance variable, hence no ClassVar.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "close", "Quit"),
        Binding("escape", "close", "Quit", show=False),
        Binding("tab", "app.focus_next", "Details / list", show=True),
    ]

    class Closed(Message):
        """The founder has read the report."""

    def __init__(self, report: Report) -> None:
        super().__init__(id="check-report")
        self.report = report
        self.items: dict[str, ItemResult] = {}
        self.shown_item: str | None = None

    def compose(self) -> ComposeResult:
        report = self.report
        yield Static(
            f"Shipyard · launch check · {where(report)}", classes="step-heading", markup=False
        )
        yield Static(
            summary_line(report, SUMMARY, every=True, sep=" · ") or "nothing to check",
            id="check-summary",
            markup=False,
        )
        yield Static(
            f"Live API: {report.url}" if report.url else "Live API: none (live probes skipped)",
            classes="intro",
            markup=False,
        )
        with Horizontal(id="report-body"):
            yield OptionList(*self._options(), id="report-items", markup=False)
            yield VerticalScroll(id="report-detail", can_focus=True)
        yield Static(
            f"{verdict(report)} Press q to quit.",
            id="check-verdict",
            classes=f"call-to-action -exit-{int(report.exit_code)}",
            markup=False,
        )
        yield Footer(compact=True)

    def _options(self) -> list[Option]:
        options: list[Option] = []
        for step in ordered_steps(self.report):
            options.append(
                Option(
                    Content.from_markup(f"[{STATUS_STYLE[step.status]}]$title", title=step.title),
                    id=f"step:{step.id}",
                    disabled=True,
                )
            )
            for item in step.items:
                self.items[item.id] = item
                options.append(
                    Option(
                        Content.from_markup(
                            f"  [{STATUS_STYLE[item.status]}]$label[/] $title",
                            label=f"{LABEL[item.status]:<5}",
                            title=item.title,
                        ),
                        id=item.id,
                    )
                )
        return options

    def on_mount(self) -> None:
        items = self.query_one("#report-items", OptionList)
        items.focus()
        first = next((i for i, option in enumerate(items.options) if not option.disabled), None)
        if first is not None:
            items.highlighted = first
        self.show_item(self.highlighted_item)

    @property
    def highlighted_item(self) -> ItemResult | None:
        items = self.query_one("#report-items", OptionList)
        option = items.highlighted_option
        return self.items.get(option.id or "") if option is not None else None

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.show_item(self.items.get(event.option.id or ""))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#report-detail").focus()

    def show_item(self, item: ItemResult | None) -> None:
        if item is not None and item.id == self.shown_item:
            return
        self.shown_item = item.id if item is not None else None
        detail = self.query_one("#report-detail", VerticalScroll)
        with self.app.batch_update():
            detail.remove_children()
            if item is None:
                detail.mount(Static("Nothing was checked.", markup=False))
            else:
                detail.mount_all(item_detail(item))
        detail.scroll_home(animate=False)

    def action_close(self) -> None:
        self.post_message(self.Closed())


def item_detail(item: ItemResult) -> list[Static]:
    """One item: status in words, the fix first when it needs one, why it matters, what was found."""
    lines = [
        _line(
            f"[{STATUS_STYLE[item.status]}]$status[/] · [bold]$title[/] [$text-muted]($id)",
            "detail-title",
            status=STATUS_WORDS[item.status],
            title=item.title,
            id=item.id,
        )
    ]
    if item.status in ("fail", "warn"):
        flagged = [c for c in item.checks if c.status in ("fail", "warn")]
        fixes = [c.fix for c in flagged if c.fix]
        if item.fix and not all(c.fix for c in flagged):  # for the checks without their own
            fixes.append(item.fix)
        for fix in dict.fromkeys(fixes):  # the matrix's two checks share one fix
            lines.append(_line("[bold]Fix:[/] $fix", "detail-fix", fix=fix))
    if item.reason and item.status in ("acknowledged", "skipped", "error"):
        what = "Acknowledged" if item.status == "acknowledged" else "Why it did not run"
        lines.append(
            _line("[bold]$what:[/] $reason", "detail-reason", what=what, reason=item.reason)
        )
    if item.explanation:
        lines.append(_line("Why it matters: $why", "detail-why", why=item.explanation))
    lines.append(_line("[bold]Checks", "detail-heading"))
    for check in item.checks:
        # An acknowledged warning still says what was covered (e.g. "probed 36 of 96 ...").
        extra = " · ".join(dict.fromkeys(text for text in (check.reason, check.note) if text))
        lines.append(
            _line(
                f"[{STATUS_STYLE[check.status]}]$label[/] $id" + (" - $extra" if extra else ""),
                "detail-check",
                label=f"{LABEL[check.status]:<5}",
                id=check.id,
                extra=extra,
            )
        )
        if check.status in ("fail", "warn", "acknowledged"):
            shown = check.findings[:MAX_FINDINGS]
            lines += [
                _line("- $finding", "detail-finding", finding=describe(finding))
                for finding in shown
            ]
            if len(check.findings) > len(shown):
                more = len(check.findings) - len(shown)
                lines.append(_line(f"... and {more} more (see --format json)", "detail-finding"))
    return lines


def _line(markup: str, classes: str, **values: str) -> Static:
    """A line of the details; founders' names and findings go in as values, never as markup."""
    return Static(Content.from_markup(markup, **values), classes=classes)
