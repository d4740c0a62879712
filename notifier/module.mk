# ra-notifier: renewal notices, confirmation mails, password and PIN sheets.
UNIT_TESTS += test_mail
test_mail_SRCS := tests/unit/test_mail.c notifier/mail.c $(LIB_BASE)
test_mail_PKGS := libcurl openssl
UNIT_TESTS += test_mail_template
test_mail_template_SRCS := tests/unit/test_mail_template.c notifier/template.c $(LIB_BASE)
UNIT_TESTS += test_sheet
test_sheet_SRCS := tests/unit/test_sheet.c notifier/sheet.c $(LIB_PAGETEXT) notifier/pdfcrypt.c $(LIB_BASE)
test_sheet_PKGS := pangocairo cairo-pdf libqpdf openssl

PROGRAMS += ra-notifier
ra-notifier_SRCS := notifier/main.c notifier/mail.c notifier/template.c notifier/sheet.c $(LIB_PAGETEXT) \
	notifier/pdfcrypt.c notifier/pdfpage.c notifier/ledger.c notifier/compose.c \
	notifier/renewals.c notifier/notices.c notifier/rejections.c notifier/sheets.c notifier/run_metrics.c notifier/stmts.c \
	notifier/passwords.c notifier/printed.c \
	lib/form_reject.c lib/officer_local.c $(LIB_OFFICER) $(LIB_OFFICER_DB) \
	$(LIB_BASE) $(LIB_CONFIG) $(LIB_DB) $(LIB_SEAL) $(LIB_METRICS)
ra-notifier_PKGS := libcurl openssl sqlite3 yaml-0.1 jansson pangocairo cairo-pdf libqpdf
