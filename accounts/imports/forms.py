"""Forms of the import pages: the upload, and the column mapping (one select per field of
ours, offering the file's columns with a sample value from the file)."""

from django import forms

from accounts.imports.fields import FIELDS, mapping_problems
from accounts.imports.models import PlacementImport
from accounts.models import Creditor

ACCEPTED = (".csv", ".txt", ".tsv", ".xlsx")
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class UploadForm(forms.Form):
    creditor = forms.ModelChoiceField(
        queryset=Creditor._base_manager.none(), empty_label="Choose the creditor"
    )
    file = forms.FileField(
        label="Placement file",
        help_text="CSV (comma, semicolon or tab separated) or Excel .xlsx, with a header row.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["creditor"].queryset = Creditor.objects.filter(is_active=True)
        self.fields["file"].widget.attrs["accept"] = ",".join(ACCEPTED)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ACCEPTED):
            raise forms.ValidationError("Upload a CSV or Excel (.xlsx) file.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                "The file is larger than 200 MB. Split it, or import it with the "
                "import_placements command."
            )
        return upload


class MappingForm(forms.Form):
    mode = forms.ChoiceField(
        label="Rows with problems",
        choices=PlacementImport.Mode.choices,
        widget=forms.RadioSelect,
        initial=PlacementImport.Mode.ALL_OR_NOTHING,
    )
    save_mapping = forms.BooleanField(
        label="Save this mapping for the creditor's next file", required=False, initial=True
    )
    mapping_name = forms.CharField(label="Mapping name", max_length=80, initial="Default")

    def __init__(self, *args, headers, samples=None, **kwargs):
        super().__init__(*args, **kwargs)
        samples = samples or {}
        choices = [("", "— not in this file —")]
        for header in headers:
            sample = samples.get(header, "")
            sample = f"{sample[:28]}…" if len(sample) > 30 else sample
            choices.append((header, f"{header}  (e.g. {sample})" if sample else header))
        for f in FIELDS:
            self.fields[f"map_{f.key}"] = forms.ChoiceField(
                label=f.label, choices=choices, required=False, help_text=f.help
            )
            if f.required:
                self.fields[f"map_{f.key}"].widget.attrs["aria-required"] = "true"

    def groups(self):
        """[(group name, [bound fields])] in the catalogue's order, for the template."""
        groups = {}
        for f in FIELDS:
            groups.setdefault(f.group, []).append((self[f"map_{f.key}"], f))
        return list(groups.items())

    def mapping(self):
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {f.key: data[f"map_{f.key}"] for f in FIELDS if data.get(f"map_{f.key}")}

    def clean(self):
        cleaned = super().clean()
        for problem in mapping_problems(self.mapping()):
            self.add_error(None, problem)
        return cleaned


def mapping_initial(mapping, mode=PlacementImport.Mode.ALL_OR_NOTHING, name="Default"):
    initial = {f"map_{key}": header for key, header in mapping.items()}
    initial.update(mode=mode, mapping_name=name, save_mapping=True)
    return initial
