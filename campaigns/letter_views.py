"""The manager's print-and-mail pages, under /o/<office_slug>/campaigns/letters/: the
letters waiting for a batch, past batches and their files, and returned mail. Thin:
the verbs are in campaigns.letters. Managers and admins only; another office's
batches are 404 through the scoped managers."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from campaigns import letters
from campaigns.models import LetterBatch, Message
from recovery.access import MANAGERS, office_view

SHOWN = 200  # queued letters listed on the page; the batch takes them all


def _batch(batch_id):
    return get_object_or_404(LetterBatch.objects.select_related("pdf", "manifest"), pk=batch_id)


@office_view(roles=MANAGERS)
def letter_list(request):
    queued = letters.letters_queued()
    context = {
        "queued": list(queued[:SHOWN]),
        "queued_count": queued.count(),
        "batches": LetterBatch.objects.select_related("created_by")[:50],
    }
    return render(request, "campaigns/letters/letter_list.html", context)


@office_view(roles=MANAGERS)
@require_POST
def letter_batch_create(request):
    try:
        batch = letters.letter_batch_create(actor=request.user)
    except ValidationError as exc:
        messages.info(request, " ".join(exc.messages))
        return redirect("letter_list", office_slug=request.office.slug)
    messages.success(
        request,
        f"Print batch {batch.pk} created: {batch.letter_count} letters, {batch.page_count} "
        "pages. Download the PDF and the manifest for the mailing vendor.",
    )
    return redirect("letter_batch_detail", office_slug=request.office.slug, batch_id=batch.pk)


@office_view(roles=MANAGERS)
def letter_batch_detail(request, batch_id):
    batch = _batch(batch_id)
    rows = list(letters.batch_letters(batch))
    context = {"batch": batch, "rows": rows, "returned": [r for r in rows if _is_returned(r)]}
    return render(request, "campaigns/letters/batch_detail.html", context)


def _is_returned(message):
    return message.provider_status == letters.RETURNED


def _file(document, *, download_name):
    response = FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=True,
        filename=download_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@office_view(roles=MANAGERS)
def letter_batch_pdf(request, batch_id):
    batch = _batch(batch_id)
    return _file(batch.pdf, download_name=f"print-batch-{batch.pk}.pdf")


@office_view(roles=MANAGERS)
def letter_batch_manifest(request, batch_id):
    batch = _batch(batch_id)
    return _file(batch.manifest, download_name=f"print-batch-{batch.pk}-manifest.csv")


@office_view(roles=MANAGERS)
@require_POST
def letter_returned(request, batch_id):
    batch = _batch(batch_id)
    sequence = request.POST.get("sequence", "")
    message = (
        Message.objects.filter(letter_batch=batch, letter_sequence=sequence).first()
        if sequence.isdigit()
        else None
    )
    if message is None:
        messages.error(request, "Choose a letter of this batch by its number.")
    else:
        try:
            letters.letter_returned_mark(message=message, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                f"Letter {sequence} marked returned: the address will not be mailed again, "
                "and a returned-mail task is open for the account.",
            )
    return redirect("letter_batch_detail", office_slug=request.office.slug, batch_id=batch.pk)
