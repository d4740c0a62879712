PROGRAMS += ra-ctl
ra-ctl_SRCS := tools/ra-ctl.c tools/ctl_init.c tools/ctl_cert.c tools/ctl_daemons.c tools/ctl_officer.c tools/ctl_users.c tools/ctl_metrics.c \
               tools/ctl_backup.c tools/ctl_restore.c tools/ctl_reconcile.c tools/ctl_keyarchive.c \
               tools/ctl_dispatch.c tools/ctl_station.c tools/ctl_lang.c $(LIB_DISPATCH) tools/ctl_report.c tools/ctl_report_pdf.c $(LIB_PAGETEXT) \
               $(LIB_BASE) $(LIB_CONFIG) $(LIB_DB) $(LIB_CLIENT) $(LIB_SEAL) $(LIB_OFFICER) $(LIB_OFFICER_DB) \
               $(CS_CORE) card-station/officer_card.c
ra-ctl_PKGS := libczmq libzmq sqlite3 yaml-0.1 jansson libcrypto libpcsclite pangocairo cairo-pdf
