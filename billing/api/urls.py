from django.urls import path

from billing.api import accounting, documents, views

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
    path("audit/accounts/", accounting.AuditAccounts.as_view(), name="audit-accounts"),
    path("accounting/fec/", accounting.FecExport.as_view(), name="accounting-fec"),
    path("accounting/closings/", accounting.ClosingList.as_view(), name="accounting-closings"),
    path("accounting/e-reporting/", accounting.EReporting.as_view(), name="e-reporting"),
    path(
        "accounting/e-reporting/export/",
        accounting.EReportingExport.as_view(),
        name="e-reporting-export",
    ),
]
