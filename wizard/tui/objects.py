"""Step: objects and their fields, added, renamed, edited and removed with the keyboard."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from wizard import answers, wording
from wizard.spec import FieldSpec
from wizard.spec.naming import with_article
from wizard.tui.base import StepScreen
from wizard.tui.dialogs import Choice
from wizard.tui.field_form import FieldForm
from wizard.tui.object_name import ObjectNameForm
from wizard.tui.widgets import wrapped


class ObjectsScreen(StepScreen):
    """Objects on the left, the highlighted object's fields on the right."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add_object", "Add object", show=False),
        Binding("r", "rename_object", "Rename", show=False),
        Binding("d", "delete_object", "Delete object", show=False),
        Binding("f", "add_field", "Add field", show=False),
        Binding("e", "edit_field", "Edit field", show=False),
        Binding("x", "delete_field", "Delete field", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="body objects-body"):
            with Vertical(id="object-column"):
                yield Static("Objects", classes="pane-title")
                yield OptionList(id="objects")
            with Vertical(id="field-column"):
                yield Static("", id="fields-title", classes="pane-title", markup=False)
                yield DataTable(id="fields", cursor_type="row", zebra_stripes=False)
        yield Static(
            "Object: a add, r rename, d delete │ Field: f add, e edit, x delete │ Tab switch",
            classes="key-help",
        )

    _shown_object: str | None = None

    def on_mount(self) -> None:
        self._refresh_objects(0)
        self.query_one("#objects", OptionList).focus()

    # --- what is selected ---------------------------------------------------------------------

    @property
    def selected_object(self) -> str | None:
        index = self.query_one("#objects", OptionList).highlighted
        names = list(self.spec.objects)
        return names[index] if index is not None and 0 <= index < len(names) else None

    @property
    def selected_field(self) -> str | None:
        table = self.query_one("#fields", DataTable)
        obj = self.selected_object
        if obj is None or table.row_count == 0:
            return None
        names = list(self.spec.objects[obj].fields)
        row = table.cursor_row
        return names[row] if 0 <= row < len(names) else None

    def _refresh_objects(self, highlight: int | None = None) -> None:
        options = self.query_one("#objects", OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(
                    f"{name} ({len(obj.fields)} field{'' if len(obj.fields) == 1 else 's'})",
                    id=name,
                )
                for name, obj in self.spec.objects.items()
            ]
        )
        if self.spec.objects:
            count = len(self.spec.objects)
            options.highlighted = min(highlight or 0, count - 1)
        self._refresh_fields()

    def _refresh_fields(self, row: int = 0) -> None:
        table = self.query_one("#fields", DataTable)
        table.clear(columns=True)
        obj_name = self.selected_object
        fields = self.spec.objects[obj_name].fields if obj_name else {}
        # Both columns fit the pane at any width; a long description wraps onto more lines.
        name_width = max([len("Field"), *(len(name) for name in fields)])
        pane = self.app.size.width - 2 - 25  # the body's padding, the objects column
        summary_width = max(16, pane - name_width - 4 - 2)  # cell padding, scroll bar
        table.add_column("Field", width=name_width)
        table.add_column("What it holds", width=summary_width)
        self._shown_object = obj_name
        title = self.query_one("#fields-title", Static)
        if obj_name is None:
            title.update("Press a to add your first object, like Booking.")
            return
        title.update(f"Fields of {obj_name}: what does {with_article(obj_name)} hold?")
        for name, field in fields.items():
            table.add_row(name, wrapped(wording.field_summary(field), summary_width), height=None)
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self.selected_object != self._shown_object:
            self._refresh_fields()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_edit_field()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#fields", DataTable).focus()

    # --- objects --------------------------------------------------------------------------------

    def action_add_object(self) -> None:
        def added(name: str | None) -> None:
            if name:
                answers.add_object(self.spec, name)
                self._refresh_objects(len(self.spec.objects) - 1)
                self.changed()
                self.notify(f"Added {name}. Press f to add its fields.", title="Object added")

        self.app.push_screen(ObjectNameForm(self.spec), added)

    def action_rename_object(self) -> None:
        current = self.selected_object
        if current is None:
            return

        def renamed(name: str | None) -> None:
            if name and name != current:
                index = list(self.spec.objects).index(current)
                answers.rename_object(self.spec, current, name)
                self._refresh_objects(index)
                self.changed()

        self.app.push_screen(ObjectNameForm(self.spec, current), renamed)

    def action_delete_object(self) -> None:
        current = self.selected_object
        if current is None:
            return
        index = list(self.spec.objects).index(current)

        def answered(key: str | None) -> None:
            if key != "y":
                return
            dangling = answers.remove_object(self.spec, current)
            self._refresh_objects(max(index - 1, 0))
            self.changed()
            if dangling:
                self.notify(
                    f"{', '.join(dangling)} still link to {current}; edit or delete them.",
                    title="Links left behind",
                    severity="warning",
                )

        count = len(self.spec.objects[current].fields)
        self.app.push_screen(
            Choice(
                f"Delete {current}?",
                f"{current} and its {count} fields will be removed.",
                [("y", "Delete"), ("n", "Keep it")],
            ),
            answered,
        )

    # --- fields ---------------------------------------------------------------------------------

    def _open_field_form(self, current: str | None) -> None:
        obj_name = self.selected_object
        if obj_name is None:
            self.notify("Add an object first (press a).", severity="warning")
            return
        row = list(self.spec.objects[obj_name].fields).index(current) if current else None

        def saved(result: tuple[str, FieldSpec] | None) -> None:
            if result is None:
                return
            name, field = result
            answers.put_field(self.spec, obj_name, name, field, current)
            self._refresh_objects(list(self.spec.objects).index(obj_name))
            fields = list(self.spec.objects[obj_name].fields)
            self._refresh_fields(fields.index(name) if row is None else row)
            self.changed()

        self.app.push_screen(FieldForm(self.spec, obj_name, current), saved)

    def action_add_field(self) -> None:
        self._open_field_form(None)

    def action_edit_field(self) -> None:
        if self.selected_field is None:
            self.action_add_field()
            return
        self._open_field_form(self.selected_field)

    def action_delete_field(self) -> None:
        obj_name, field = self.selected_object, self.selected_field
        if obj_name is None or field is None:
            return
        row = self.query_one("#fields", DataTable).cursor_row
        answers.remove_field(self.spec, obj_name, field)
        self._refresh_objects(list(self.spec.objects).index(obj_name))
        self._refresh_fields(max(row - 1, 0))
        self.changed()
        self.notify(f"Removed {obj_name}.{field}.", title="Field deleted")
