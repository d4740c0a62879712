/*
 * ctl_metrics.c: `ra-ctl status` at a glance: every metrics textfile in metrics.dir,
 * how long ago it was written, and its figures. It shows what Prometheus would scrape,
 * read from the same files, so the operator's terminal and the dashboards never
 * disagree. Histogram buckets are left out (their count and sum are shown).
 */
#include "ctl.h"
#include "util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int prom_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 5 && strcmp(d->d_name + n - 5, ".prom") == 0;
}

static void show_file(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), *text, *line, *save = NULL;
	struct stat sb;
	size_t len;

	if (stat(path, &sb) < 0 || !(text = file_read(path, &len))) {
		free(path);
		return;
	}
	printf("\n%.*s (written %lld s ago)\n", (int)(strlen(name) - 5), name,
	    (long long)(time(NULL) - sb.st_mtime));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(line, ' ');
		if (line[0] == '#' || !sp || strstr(line, "_bucket{"))
			continue;
		*sp = '\0';
		printf("  %-72s %s\n", line, sp + 1);
	}
	free(text);
	free(path);
}

int ctl_metrics_show(const config_t *cfg)
{
	char *dir = config_path(cfg, "metrics.dir");
	struct dirent **list = NULL;
	int n = scandir(dir, &list, prom_file, alphasort);

	if (n <= 0)
		printf("\nno metrics files in %s yet\n", dir);
	for (int i = 0; i < n; i++) {
		show_file(dir, list[i]->d_name);
		free(list[i]);
	}
	free(list);
	free(dir);
	return 0;
}
