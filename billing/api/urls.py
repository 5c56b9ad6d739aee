from django.urls import path

from billing.api import documents, views

urlpatterns = [
    path("invoices/", views.InvoiceList.as_view(), name="invoice-list"),
    # Before the detail route, which would take "export" for an invoice number.
    path("invoices/export/", views.InvoiceExport.as_view(), name="invoice-export"),
    path("invoices/<str:number>/", views.InvoiceDetail.as_view(), name="invoice-detail"),
    path("invoices/<str:number>/pdf/", documents.InvoicePdf.as_view(), name="invoice-pdf"),
    path(
        "credit-notes/<str:number>/pdf/",
        documents.CreditNotePdf.as_view(),
        name="credit-note-pdf",
    ),
    path(
        "invoices/<str:number>/credit-notes/",
        views.CreditNoteCreate.as_view(),
        name="invoice-credit-notes",
    ),
    path("audit/sequences/", views.AuditSequences.as_view(), name="audit-sequences"),
]
