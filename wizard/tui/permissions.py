"""Step: the permissions matrix — for each object and action, who may do it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from wizard import wording
from wizard.spec import ACTIONS, Rule
from wizard.tui.base import StepScreen
from wizard.tui.rule_picker import RulePicker
from wizard.tui.widgets import wrapped


class PermissionsScreen(StepScreen):
    """Rows are objects, columns the four actions; Enter on a cell changes its rule."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "change", "Change rule", show=True)]

    def compose_body(self) -> ComposeResult:
        with Vertical(classes="body"):
            yield Static(self.item("permissions").question or "", classes="question", markup=False)
            yield DataTable(id="matrix", cursor_type="cell")
            yield Static("", id="cell-sentence", classes="sentence", markup=False)
            yield Static("Arrows move · Enter change · F1 why it matters", classes="key-help")

    def on_mount(self) -> None:
        table = self.query_one("#matrix", DataTable)
        # Every label whole at any width: the columns share the screen, and a rule that does
        # not fit its column wraps onto more lines of its row instead of being cut off.
        names = list(self.spec.objects)
        name_width = max([len("Object"), *(len(name) for name in names)])
        spare = self.app.size.width - 4 - 2 * (len(ACTIONS) + 1)  # body and cell padding
        self._width = max(9, (spare - name_width) // len(ACTIONS))
        table.add_column("Object", key="object", width=name_width)
        for action in ACTIONS:
            table.add_column(action.capitalize(), key=action, width=self._width)
        for name in names:
            table.add_row(name, *self._cells(name), key=name, height=None)
        table.move_cursor(row=0, column=1)
        table.focus()
        self._describe()

    def _cells(self, name: str) -> list[Text]:
        permissions = self.spec.objects[name].permissions
        return [self._label(permissions.rule(action)) for action in ACTIONS]

    def _label(self, rule: Rule | None) -> Text:
        return wrapped(wording.rule_phrase(rule, short=True), self._width)

    def _cell(self) -> tuple[str, str] | None:
        table = self.query_one("#matrix", DataTable)
        names = list(self.spec.objects)
        row, column = table.cursor_coordinate
        if not names or not 0 <= row < len(names):
            return None
        return names[row], ACTIONS[max(column - 1, 0)]

    def _describe(self) -> None:
        cell = self._cell()
        text = ""
        if cell:
            name, action = cell
            text = wording.permission_sentence(
                name, action, self.spec.objects[name].permissions.rule(action)
            )
        self.query_one("#cell-sentence", Static).update(text)

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        if event.coordinate.column == 0:
            self.query_one("#matrix", DataTable).cursor_coordinate = Coordinate(
                event.coordinate.row, 1
            )
        self._describe()

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.action_change()

    def action_change(self) -> None:
        cell = self._cell()
        if cell is None:
            return
        name, action = cell

        def picked(rule: Rule | None) -> None:
            if rule is None:
                return
            setattr(self.spec.objects[name].permissions, action, rule)
            touched = getattr(self.app, "permissions_touched", None)
            if isinstance(touched, set):
                touched.add(name)
            table = self.query_one("#matrix", DataTable)
            table.update_cell(name, action, self._label(rule))  # the row's height follows
            self._describe()
            self.changed()

        self.app.push_screen(RulePicker(self.spec, name, action), picked)
