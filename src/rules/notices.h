/* notices: the words a user reads about a contract's or a money move's
 * event, by the event's kind: the subject and text of its mail (the email
 * service lays them out). The store's transactions decide that an event
 * happened and queue its mail; what it says is decided here. */
#ifndef OPX_NOTICES_H
#define OPX_NOTICES_H

typedef struct {
    const char *kind, *subject, *text;
} notice_words;

/* the words for an event kind ("milestone.funded"); NULL for a kind that
 * has none (no mail goes out) */
const notice_words *notice_words_for(const char *kind);
#endif
