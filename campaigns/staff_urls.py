"""The manager's campaign pages, under /o/<office_slug>/campaigns/ (the public provider
webhooks are in campaigns/urls.py)."""

from django.urls import path

from campaigns import letter_views
from campaigns import staff_views as views

urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("new/", views.campaign_new, name="campaign_new"),
    path("segment-count/", views.segment_count, name="campaign_segment_count"),
    path("<int:campaign_id>/", views.campaign_detail, name="campaign_detail"),
    path("<int:campaign_id>/edit/", views.campaign_edit, name="campaign_edit"),
    path("<int:campaign_id>/preview/", views.campaign_preview, name="campaign_preview"),
    path("<int:campaign_id>/activate/", views.campaign_activate, name="campaign_activate"),
    path("<int:campaign_id>/pause/", views.campaign_pause, name="campaign_pause"),
    path("<int:campaign_id>/resume/", views.campaign_resume, name="campaign_resume"),
    path("<int:campaign_id>/dry-run/", views.dry_run_start, name="dry_run_start"),
    path("dry-runs/<int:run_id>/", views.dry_run_detail, name="dry_run_detail"),
    path("dry-runs/<int:run_id>/progress/", views.dry_run_progress, name="dry_run_progress"),
    path("templates/", views.template_list, name="template_list"),
    path("templates/new/", views.template_new, name="template_new"),
    path("templates/preview/", views.template_preview, name="template_preview"),
    path("templates/<int:template_id>/", views.template_edit, name="template_edit"),
    path("letters/", letter_views.letter_list, name="letter_list"),
    path("letters/batches/", letter_views.letter_batch_create, name="letter_batch_create"),
    path(
        "letters/batches/<int:batch_id>/",
        letter_views.letter_batch_detail,
        name="letter_batch_detail",
    ),
    path(
        "letters/batches/<int:batch_id>/letters.pdf",
        letter_views.letter_batch_pdf,
        name="letter_batch_pdf",
    ),
    path(
        "letters/batches/<int:batch_id>/manifest.csv",
        letter_views.letter_batch_manifest,
        name="letter_batch_manifest",
    ),
    path(
        "letters/batches/<int:batch_id>/returned/",
        letter_views.letter_returned,
        name="letter_returned",
    ),
]
