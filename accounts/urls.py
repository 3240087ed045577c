from django.urls import path

from accounts import creditor_file_views, import_views, views
from portal.views import staff as portal_staff

urlpatterns = [
    path("", views.account_list, name="account_list"),
    path("<int:account_id>/", views.account_detail, name="account_detail"),
    # The office's side of the debtor's portal conversation.
    path("<int:account_id>/messages/", portal_staff.conversation, name="staff_conversation"),
    path("imports/", import_views.import_list, name="import_list"),
    path("imports/new/", import_views.import_new, name="import_new"),
    path("imports/<int:import_id>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:import_id>/mapping/", import_views.import_mapping, name="import_mapping"),
    path("imports/<int:import_id>/preview/", import_views.import_preview, name="import_preview"),
    path(
        "imports/<int:import_id>/progress/",
        import_views.import_progress_view,
        name="import_progress",
    ),
    path("imports/<int:import_id>/file/", import_views.import_file, name="import_file"),
    path(
        "imports/<int:import_id>/rejected.csv",
        import_views.import_rejected,
        name="import_rejected",
    ),
    path(
        "imports/<int:import_id>/matches/<int:match_id>/split/",
        import_views.import_match_split,
        name="import_match_split",
    ),
    path(
        "imports/creditor-files/", creditor_file_views.creditor_file_list, name="creditor_file_list"
    ),
    path(
        "imports/creditor-files/new/",
        creditor_file_views.creditor_file_new,
        name="creditor_file_new",
    ),
    path(
        "imports/creditor-files/<int:file_id>/",
        creditor_file_views.creditor_file_detail,
        name="creditor_file_detail",
    ),
    path(
        "imports/creditor-files/<int:file_id>/progress/",
        creditor_file_views.creditor_file_progress,
        name="creditor_file_progress",
    ),
    path(
        "imports/creditor-files/<int:file_id>/rejected.csv",
        creditor_file_views.creditor_file_rejected,
        name="creditor_file_rejected",
    ),
    path(
        "imports/<int:import_id>/acknowledgement.csv",
        creditor_file_views.import_acknowledgement,
        name="import_acknowledgement",
    ),
    path(
        "creditors/<int:creditor_id>/close-return/",
        creditor_file_views.creditor_close_return,
        name="creditor_close_return",
    ),
]
