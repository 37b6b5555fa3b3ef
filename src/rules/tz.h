/* tz: which IANA time zone names are real, from the system's zoneinfo.
 * The list (zones and links of tzdata.zi) is read once at start-up, so
 * validation on the loop never touches the disk. */
#ifndef OPX_TZ_H
#define OPX_TZ_H

/* Loads the names; returns how many, or -1 when the file is unreadable. */
int tz_load(const char *tzdata_zi);
int tz_valid(const char *name);
void tz_free(void);
#endif
