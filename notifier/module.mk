# ra-notifier: renewal notices, confirmation mails, password and PIN sheets.
UNIT_TESTS += test_mail
test_mail_SRCS := tests/unit/test_mail.c notifier/mail.c $(LIB_BASE)
test_mail_PKGS := libcurl openssl
UNIT_TESTS += test_mail_template
test_mail_template_SRCS := tests/unit/test_mail_template.c notifier/template.c $(LIB_BASE)
UNIT_TESTS += test_sheet
test_sheet_SRCS := tests/unit/test_sheet.c notifier/sheet.c notifier/pdfcrypt.c $(LIB_BASE)
test_sheet_PKGS := pangocairo cairo-pdf libqpdf openssl
