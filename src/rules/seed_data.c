/* seed_data: the demo-engineer generator (see seed_data.h). Owns the name
 * pools by culture, the time-zone list, the headline/bio/note templates and
 * the level rules; everything is derived from splitmix64 on (seed, i). */
#include "seed_data.h"
#include "skills.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- randomness ---------------------------------------------------------- */

/* Argument evaluation order is unspecified in C, so never draw twice in one
 * call's arguments: draw into locals first, or gcc and clang disagree. */

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    r->s += 0x9e3779b97f4a7c15ULL;
    return mix64(r->s);
}

/* 0..n-1 */
static int below(rng *r, int n)
{
    return n <= 1 ? 0 : (int)(rng_next(r) % (uint64_t)n);
}

/* lo..hi inclusive */
static int between(rng *r, int lo, int hi)
{
    return lo + below(r, hi - lo + 1);
}

static int chance(rng *r, int percent)
{
    return below(r, 100) < percent;
}

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

#define PICK(r, a) ((a)[below((r), N(a))])

/* ---- names and places ---------------------------------------------------- */

/* Names come in cultures so that first and last names (and the usual time
 * zone) belong together; a few engineers live somewhere else. Every
 * (first, last) pair across all cultures is a distinct full name. */
typedef struct {
    const char *const *first;
    int nfirst;
    const char *const *last;
    int nlast;
    const char *const *zones;
    int nzones;
} culture;

static const char *const us_first[] = {"Jordan",  "Maya",   "Tyler",    "Aisha",   "Marcus",
                                       "Rachel",  "Ethan",  "Danielle", "Caleb",   "Naomi",
                                       "Brandon", "Hailey", "Devon",    "Courtney"};
static const char *const us_last[] = {"Johnson", "Carter",     "Brooks",   "Reed",     "Coleman",
                                      "Hayes",   "Foster",     "Sullivan", "Whitaker", "Jenkins",
                                      "Donovan", "Richardson", "Greene",   "Lawson"};
static const char *const us_tz[] = {
    "America/New_York",    "America/New_York",    "America/Chicago", "America/Denver",
    "America/Los_Angeles", "America/Los_Angeles", "America/Toronto"};

static const char *const uk_first[] = {"Oliver", "Charlotte", "James",  "Hannah",
                                       "Liam",   "Niamh",     "Thomas", "Imogen",
                                       "Callum", "Siobhán",   "Rhys",   "Eleanor"};
static const char *const uk_last[] = {"Walsh",    "Bennett",    "Hughes",    "Murphy",
                                      "Clarke",   "Fraser",     "Doyle",     "Evans",
                                      "O'Connor", "Harrington", "Pritchard", "Gallagher"};
static const char *const uk_tz[] = {"Europe/London", "Europe/London", "Europe/Dublin"};

static const char *const de_first[] = {"Lukas",  "Anna",  "Jonas", "Sofie",   "Lars",
                                       "Ingrid", "Felix", "Freya", "Maarten", "Annika"};
static const char *const de_last[] = {"Müller", "Schneider", "Jansen",    "de Vries", "Lindqvist",
                                      "Hansen", "Becker",    "Johansson", "Vogel",    "Bakker"};
static const char *const de_tz[] = {"Europe/Berlin", "Europe/Berlin", "Europe/Amsterdam",
                                    "Europe/Stockholm"};

static const char *const fr_first[] = {"Élodie", "Mathieu", "Camille", "Julien",
                                       "Léa",    "Antoine", "Margaux", "Théo"};
static const char *const fr_last[] = {"Moreau",   "Dubois",   "Lefèvre", "Girard",
                                      "Fontaine", "Rousseau", "Lambert", "Chevalier"};
static const char *const fr_tz[] = {"Europe/Paris"};

static const char *const it_first[] = {"Giulia", "Marco", "Chiara", "Luca", "Francesca", "Matteo"};
static const char *const it_last[] = {"Rossi", "Ferrari", "Romano", "Colombo", "Ricci", "Marino"};
static const char *const it_tz[] = {"Europe/Rome"};

static const char *const es_first[] = {"Lucía", "Javier", "Carmen", "Álvaro", "Marta", "Pablo"};
static const char *const es_last[] = {"García", "Fernández", "López",
                                      "Martín", "Sánchez",   "Navarro"};
static const char *const es_tz[] = {"Europe/Madrid"};

static const char *const pt_first[] = {"Inês", "João", "Beatriz", "Tiago", "Mariana", "Rui"};
static const char *const pt_last[] = {"Silva", "Marques", "Sousa", "Teixeira", "Pinto", "Fonseca"};
static const char *const pt_tz[] = {"Europe/Lisbon"};

static const char *const pl_first[] = {"Katarzyna", "Piotr", "Agnieszka", "Tomasz",
                                       "Magdalena", "Paweł", "Zofia",     "Michał"};
static const char *const pl_last[] = {"Nowak",    "Wójcik", "Kaczmarek", "Mazur",
                                      "Krawczyk", "Dudek",  "Sikora",    "Pawlak"};
static const char *const pl_tz[] = {"Europe/Warsaw"};

static const char *const tr_first[] = {"Elif", "Emre", "Zeynep", "Mehmet", "Ayşe", "Burak"};
static const char *const tr_last[] = {"Yılmaz", "Demir", "Kaya", "Şahin", "Çelik", "Aydın"};
static const char *const tr_tz[] = {"Europe/Istanbul"};

static const char *const ng_first[] = {"Amara",  "Chinedu", "Ngozi",  "Tunde",
                                       "Folake", "Emeka",   "Adaeze", "Oluwaseun"};
static const char *const ng_last[] = {"Okafor",  "Adeyemi", "Eze",     "Nwosu",
                                      "Okonkwo", "Balogun", "Afolabi", "Chukwu"};
static const char *const ng_tz[] = {"Africa/Lagos"};

static const char *const gh_first[] = {"Kwame", "Ama", "Yaw", "Akosua", "Kofi", "Efua"};
static const char *const gh_last[] = {"Mensah", "Boateng", "Asante", "Owusu", "Agyeman", "Darko"};
static const char *const gh_tz[] = {"Africa/Accra"};

static const char *const ke_first[] = {"Achieng", "Otieno", "Wanjiru",
                                       "Baraka",  "Zawadi", "Kiprono"};
static const char *const ke_last[] = {"Kamau",   "Odhiambo", "Mwangi",
                                      "Njoroge", "Kiplagat", "Wekesa"};
static const char *const ke_tz[] = {"Africa/Nairobi"};

static const char *const za_first[] = {"Thabo", "Lerato", "Sipho", "Naledi", "Kagiso", "Anele"};
static const char *const za_last[] = {"Nkosi",   "Dlamini", "Ndlovu",
                                      "Mokoena", "Khumalo", "Mahlangu"};
static const char *const za_tz[] = {"Africa/Johannesburg"};

static const char *const ar_first[] = {"Omar",  "Layla", "Youssef", "Nour",
                                       "Karim", "Salma", "Hassan",  "Rania"};
static const char *const ar_last[] = {"Haddad", "Mansour", "El-Sayed", "Khalil",
                                      "Nasser", "Farouk",  "Saleh",    "Aziz"};
static const char *const ar_tz[] = {"Africa/Cairo", "Africa/Cairo", "Asia/Dubai"};

static const char *const in_first[] = {"Priya",  "Arjun",   "Ananya",  "Rohan",   "Kavya",
                                       "Vikram", "Meera",   "Aditya",  "Sanjana", "Farhan",
                                       "Nikhil", "Deepika", "Karthik", "Shreya"};
static const char *const in_last[] = {"Sharma",   "Iyer",  "Patel",    "Reddy",     "Nair",
                                      "Banerjee", "Gupta", "Menon",    "Chowdhury", "Qureshi",
                                      "Kulkarni", "Joshi", "Krishnan", "Bhatt"};
static const char *const in_tz[] = {"Asia/Kolkata", "Asia/Kolkata", "Asia/Kolkata",
                                    "Asia/Kolkata", "Asia/Dubai",   "Asia/Singapore"};

static const char *const cn_first[] = {"Wei", "Mei",   "Jun",    "Xinyi",
                                       "Hao", "Yiran", "Zhiwei", "Jiahui"};
static const char *const cn_last[] = {"Chen", "Wang", "Zhang", "Liu", "Huang", "Zhou", "Wu", "Tan"};
static const char *const cn_tz[] = {"Asia/Shanghai", "Asia/Shanghai", "Asia/Singapore"};

static const char *const jp_first[] = {"Haruto", "Yuki", "Sakura", "Kenji", "Aoi", "Ren"};
static const char *const jp_last[] = {"Tanaka",    "Sato",     "Suzuki",
                                      "Takahashi", "Nakamura", "Kobayashi"};
static const char *const jp_tz[] = {"Asia/Tokyo"};

static const char *const kr_first[] = {"Minji", "Jiwoo", "Seojun", "Hyunwoo", "Jisoo", "Dohyun"};
static const char *const kr_last[] = {"Kim", "Park", "Lee", "Choi", "Jung", "Kang"};
static const char *const kr_tz[] = {"Asia/Seoul"};

static const char *const vn_first[] = {"Linh", "Minh", "Thao", "Quang", "Huong", "Duc"};
static const char *const vn_last[] = {"Nguyen", "Tran", "Pham", "Le", "Hoang", "Vu"};
static const char *const vn_tz[] = {"Asia/Ho_Chi_Minh"};

static const char *const ph_first[] = {"Paolo", "Angelica", "Jerome", "Kristine", "Rommel", "Bea"};
static const char *const ph_last[] = {"Santos",   "Reyes",      "Cruz",
                                      "Bautista", "Villanueva", "Mendoza"};
static const char *const ph_tz[] = {"Asia/Manila"};

static const char *const id_first[] = {"Putri", "Budi", "Sari", "Rizky", "Dewi", "Arief"};
static const char *const id_last[] = {"Santoso", "Wijaya", "Hidayat",
                                      "Pratama", "Kusuma", "Nugroho"};
static const char *const id_tz[] = {"Asia/Jakarta"};

static const char *const la_first[] = {"Sofía",  "Mateo",    "Valentina", "Diego",
                                       "Camila", "Santiago", "Daniela",   "Andrés",
                                       "Ximena", "Emiliano", "Renata",    "Joaquín"};
static const char *const la_last[] = {"Hernández", "Gómez",   "Ramírez", "Torres",
                                      "Castillo",  "Morales", "Vargas",  "Rojas",
                                      "Aguilar",   "Herrera", "Medina",  "Cortés"};
static const char *const la_tz[] = {"America/Mexico_City", "America/Mexico_City", "America/Bogota",
                                    "America/Argentina/Buenos_Aires"};

static const char *const br_first[] = {"Gabriel", "Beatriz", "Rafael", "Larissa",
                                       "Thiago",  "Juliana", "Felipe", "Fernanda"};
static const char *const br_last[] = {"Oliveira", "Costa",   "Pereira", "Almeida",
                                      "Carvalho", "Ribeiro", "Barbosa", "Rocha"};
static const char *const br_tz[] = {"America/Sao_Paulo"};

static const char *const oc_first[] = {"Jack",  "Chloe",    "Lachlan", "Isla",
                                       "Aroha", "Harrison", "Tane",    "Matilda"};
static const char *const oc_last[] = {"Campbell", "Kelly",     "Wilson",  "Ngata",
                                      "Parata",   "Robertson", "Stewart", "McKenzie"};
static const char *const oc_tz[] = {"Australia/Sydney", "Australia/Sydney", "Australia/Perth",
                                    "Pacific/Auckland"};

#define CULTURE(p)                                                                                 \
    {                                                                                              \
        p##_first, N(p##_first), p##_last, N(p##_last), p##_tz, N(p##_tz)                          \
    }
static const culture cultures[] = {
    CULTURE(us), CULTURE(uk), CULTURE(de), CULTURE(fr), CULTURE(it), CULTURE(es),
    CULTURE(pt), CULTURE(pl), CULTURE(tr), CULTURE(ng), CULTURE(gh), CULTURE(ke),
    CULTURE(za), CULTURE(ar), CULTURE(in), CULTURE(cn), CULTURE(jp), CULTURE(kr),
    CULTURE(vn), CULTURE(ph), CULTURE(id), CULTURE(la), CULTURE(br), CULTURE(oc),
};

/* Where the engineers who moved abroad live: the usual tech hubs. */
static const char *const hub_zones[] = {
    "Europe/London",    "Europe/Berlin",    "Europe/Amsterdam",    "Europe/Lisbon",
    "America/New_York", "America/Toronto",  "America/Los_Angeles", "Asia/Singapore",
    "Asia/Dubai",       "Australia/Sydney",
};

static const char *const eur_zones[] = {"Europe/Dublin",   "Europe/Lisbon", "Europe/Madrid",
                                        "Europe/Paris",    "Europe/Rome",   "Europe/Berlin",
                                        "Europe/Amsterdam"};

/* A keyed bijection on [0, n): a 4-round Feistel network on the smallest
 * even-bit power of two >= n, cycle-walked back into range. */
static uint32_t permute(unsigned seed, uint32_t x, uint32_t n)
{
    int h = 1;
    while ((1ULL << (2 * h)) < n)
        h++;
    uint32_t mask = (1U << h) - 1;
    do {
        uint32_t l = x >> h, r = x & mask;
        for (uint32_t round = 0; round < 4; round++) {
            uint32_t f = (uint32_t)mix64(((uint64_t)seed << 32) ^ ((uint64_t)round << 24) ^ r ^
                                         0x5eed0f0bULL) &
                         mask;
            uint32_t t = r;
            r = l ^ f;
            l = t;
        }
        x = (l << h) | r;
    } while (x >= n);
    return x;
}

/* ---- skills --------------------------------------------------------------- */

/* Short labels for prose and how common each skill is among async Python
 * engineers. Catalog ids not listed here use the catalog name, weight 10. */
static const struct {
    const char *id, *label;
    int weight;
} skill_info[] = {
    {"fastapi", "FastAPI", 40},
    {"sanic", "Sanic", 7},
    {"django-async", "async Django", 20},
    {"aiohttp", "aiohttp", 14},
    {"starlette", "Starlette", 10},
    {"asyncpg", "asyncpg", 30},
    {"aiosqlite", "aiosqlite", 6},
    {"motor", "MongoDB/Motor", 10},
    {"sqlalchemy-async", "SQLAlchemy async", 26},
    {"redis-asyncio", "Redis", 26},
    {"httpx", "HTTPX", 26},
    {"aiohttp-client", "aiohttp client", 12},
    {"event-loop", "event-loop internals", 10},
    {"gather-wait", "structured concurrency", 16},
    {"timeouts", "timeouts", 16},
    {"cancellation", "cancellation", 14},
    {"task-exceptions", "task error handling", 10},
    {"async-context-managers", "async context managers", 10},
    {"background-tasks", "background jobs", 14},
    {"pytest-asyncio", "pytest-asyncio", 24},
    {"asyncmock", "AsyncMock", 10},
    {"timeout-cancellation-tests", "cancellation tests", 8},
    {"concurrency-tests", "concurrency testing", 8},
    {"distributed-tracing", "observability", 16},
    {"rate-limiting", "rate limiting", 12},
    {"backpressure", "backpressure", 10},
    {"circuit-breakers", "circuit breakers", 8},
    {"graceful-shutdown", "graceful shutdown", 8},
    {"memory-leaks", "memory profiling", 6},
    {"resource-safety", "resource safety", 6},
};

static int info_index(int k)
{
    for (int j = 0; j < N(skill_info); j++)
        if (strcmp(skill_info[j].id, skills_catalog[k].id) == 0) return j;
    return -1;
}

static const char *skill_label(int k)
{
    int j = info_index(k);
    return j >= 0 ? skill_info[j].label : skills_catalog[k].name;
}

static int skill_weight(int k)
{
    int j = info_index(k);
    return j >= 0 ? skill_info[j].weight : 10;
}

enum { MID, SENIOR, STAFF };

static const char *const group_ids[] = {"frameworks",  "database-drivers", "http-clients",
                                        "concurrency", "testing",          "production"};
/* how likely a further skill comes from each group, by level */
static const int group_weights[3][6] = {
    {2, 5, 5, 6, 4, 2},
    {2, 5, 4, 6, 4, 4},
    {2, 4, 3, 5, 4, 6},
};

static int group_of(int k)
{
    for (int g = 0; g < N(group_ids); g++)
        if (strcmp(skills_catalog[k].group, group_ids[g]) == 0) return g;
    return -1;
}

#define CATALOG_MAX 256

/* A weighted pick among catalog skills not yet taken, limited to group g
 * (or any group when g < 0); -1 when nothing is left. */
static int pick_skill(rng *r, const unsigned char *taken, int g, int lvl)
{
    int n = skills_count < CATALOG_MAX ? skills_count : CATALOG_MAX;
    long total = 0;
    for (int k = 0; k < n; k++) {
        int gk = group_of(k);
        if (taken[k] || (g >= 0 && gk != g)) continue;
        total += (long)skill_weight(k) * (g >= 0 ? 1 : gk >= 0 ? group_weights[lvl][gk] : 1);
    }
    if (total <= 0) return -1;
    long x = (long)(rng_next(r) % (uint64_t)total);
    for (int k = 0; k < n; k++) {
        int gk = group_of(k);
        if (taken[k] || (g >= 0 && gk != g)) continue;
        x -= (long)skill_weight(k) * (g >= 0 ? 1 : gk >= 0 ? group_weights[lvl][gk] : 1);
        if (x < 0) return k;
    }
    return -1;
}

/* ---- text helpers ---------------------------------------------------------- */

/* Cuts a truncated string back to its last complete UTF-8 character. */
static void utf8_trim(char *s)
{
    size_t n = strlen(s);
    if (n == 0) return;
    size_t p = n - 1;
    while (p > 0 && ((unsigned char)s[p] & 0xC0) == 0x80)
        p--;
    unsigned char c = (unsigned char)s[p];
    size_t need = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    if (p + need > n) s[p] = '\0';
}

/* Appends a whole sentence (with a separating space) only when it fits. */
static int add_sentence(char *buf, size_t size, const char *sentence)
{
    size_t len = strlen(buf), add = strlen(sentence) + (len ? 1 : 0);
    if (!*sentence || len + add >= size) return 0;
    snprintf(buf + len, size - len, "%s%s", len ? " " : "", sentence);
    return 1;
}

/* Lower-case ASCII for handles and domains: common accented letters are
 * folded, everything else (spaces, hyphens, apostrophes) dropped. */
static void handle_part(const char *in, char *out, size_t size)
{
    static const struct {
        const char *u, *a;
    } fold[] = {
        {"á", "a"}, {"à", "a"},  {"â", "a"}, {"ä", "a"}, {"ã", "a"}, {"ą", "a"}, {"Á", "a"},
        {"é", "e"}, {"è", "e"},  {"ê", "e"}, {"ë", "e"}, {"ę", "e"}, {"É", "e"}, {"í", "i"},
        {"ì", "i"}, {"î", "i"},  {"ï", "i"}, {"ı", "i"}, {"İ", "i"}, {"ó", "o"}, {"ò", "o"},
        {"ô", "o"}, {"ö", "o"},  {"õ", "o"}, {"ø", "o"}, {"Ö", "o"}, {"ú", "u"}, {"ù", "u"},
        {"û", "u"}, {"ü", "u"},  {"Ü", "u"}, {"ñ", "n"}, {"ń", "n"}, {"ç", "c"}, {"ć", "c"},
        {"Ç", "c"}, {"ş", "s"},  {"ś", "s"}, {"Ş", "s"}, {"ğ", "g"}, {"ł", "l"}, {"ż", "z"},
        {"ź", "z"}, {"ß", "ss"},
    };
    size_t o = 0;
    if (size == 0) return;
    out[0] = '\0';
    for (const char *p = in; *p;) {
        unsigned char c = (unsigned char)*p;
        const char *rep = NULL;
        size_t adv = 1;
        if (c >= 'A' && c <= 'Z') {
            if (o + 1 < size) out[o++] = (char)(c - 'A' + 'a');
            p++;
            continue;
        }
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (o + 1 < size) out[o++] = (char)c;
            p++;
            continue;
        }
        if (c >= 0x80) {
            for (int j = 0; j < N(fold); j++) {
                size_t ul = strlen(fold[j].u);
                if (strncmp(p, fold[j].u, ul) == 0) {
                    rep = fold[j].a;
                    adv = ul;
                    break;
                }
            }
            if (!rep) { /* skip the whole unknown character */
                adv = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
                for (size_t q = 1; q < adv; q++)
                    if (!p[q]) {
                        adv = q;
                        break;
                    }
            }
        }
        for (const char *a = rep; a && *a; a++)
            if (o + 1 < size) out[o++] = *a;
        p += adv;
    }
    out[o] = '\0';
}

/* ---- prose ------------------------------------------------------------------ */

static const struct {
    const char *article, *name;
} domains[] = {
    {"a", "fintech"},      {"a", "logistics"},      {"a", "health-tech"},
    {"an", "ad-tech"},     {"an", "e-commerce"},    {"an", "IoT telemetry"},
    {"an", "edtech"},      {"a", "travel booking"}, {"a", "media streaming"},
    {"a", "B2B SaaS"},     {"an", "insurance"},     {"a", "food delivery"},
    {"a", "climate-tech"}, {"an", "online gaming"}, {"a", "developer tooling"},
    {"a", "payments"},     {"a", "ticketing"},      {"a", "property-tech"},
};

static const char *const providers[] = {"payments", "shipping",  "KYC",
                                        "SMS",      "geocoding", "fraud-scoring"};
static const char *const flows[] = {"payment", "webhook", "notification", "billing", "refund"};

/* Prose label of a framework for the bio. */
static const char *framework_prose(int k)
{
    if (strcmp(skills_catalog[k].id, "django-async") == 0) return "Django's async views and ORM";
    if (strcmp(skills_catalog[k].id, "aiohttp") == 0) return "aiohttp";
    return skill_label(k);
}

/* A concrete piece of async work tied to catalog skill k, or 0 when there
 * is no story for it. */
static int achievement(rng *r, int k, char *out, size_t size)
{
    const char *id = skills_catalog[k].id;
    int d = below(r, N(domains));
    const char *art = domains[d].article, *dom = domains[d].name;
    out[0] = '\0';
    if (strcmp(id, "fastapi") == 0) {
        if (chance(r, 50))
            snprintf(out, size,
                     "I designed %s %s API on FastAPI, including dependency-injected database "
                     "sessions that are released even when the client disconnects.",
                     art, dom);
        else
            snprintf(out, size,
                     "I split a FastAPI monolith at %s %s company into three services and kept "
                     "p95 latency under %d ms throughout the migration.",
                     art, dom, 10 * between(r, 6, 25));
    } else if (strcmp(id, "sanic") == 0) {
        snprintf(out, size,
                 "I run a Sanic service that holds %dk websocket connections for live %s "
                 "dashboards.",
                 between(r, 5, 80), dom);
    } else if (strcmp(id, "django-async") == 0) {
        snprintf(out, size,
                 "I moved the slowest endpoints of %s %s Django monolith to async views and "
                 "found the sync_to_async calls that were quietly serialising every request.",
                 art, dom);
    } else if (strcmp(id, "aiohttp") == 0) {
        snprintf(out, size,
                 "I maintain an aiohttp server that streams %s events to %dk concurrent clients "
                 "over server-sent events.",
                 dom, between(r, 3, 60));
    } else if (strcmp(id, "starlette") == 0) {
        snprintf(out, size,
                 "I wrote Starlette middleware for request deadlines and structured logging that "
                 "%d internal services now share.",
                 between(r, 4, 30));
    } else if (strcmp(id, "asyncpg") == 0) {
        int before = 10 * between(r, 18, 90), after = between(r, 25, 120);
        snprintf(out, size,
                 "At %s %s company I moved the hot read path to asyncpg with a properly sized "
                 "pool, taking p99 latency from %d ms to %d ms.",
                 art, dom, before, after);
    } else if (strcmp(id, "sqlalchemy-async") == 0) {
        snprintf(out, size,
                 "I migrated %s %s backend from sync SQLAlchemy to its asyncio extension one "
                 "router at a time, without a feature freeze.",
                 art, dom);
    } else if (strcmp(id, "redis-asyncio") == 0) {
        snprintf(out, size,
                 "I built a job queue on redis.asyncio that handles about %dk jobs a day with "
                 "at-least-once delivery and idempotent handlers.",
                 10 * between(r, 5, 90));
    } else if (strcmp(id, "motor") == 0) {
        snprintf(out, size,
                 "I own a Motor-based ingestion service that writes %dk readings a minute into "
                 "MongoDB in bounded batches.",
                 between(r, 5, 120));
    } else if (strcmp(id, "aiosqlite") == 0) {
        snprintf(out, size,
                 "I wrote an offline-first sync agent on aiosqlite that queues writes locally "
                 "and reconciles with the cloud API once connectivity returns.");
    } else if (strcmp(id, "httpx") == 0) {
        snprintf(out, size,
                 "I replaced a tangle of blocking requests calls with one shared HTTPX client, "
                 "connection limits and retries, cutting partner fan-out time by %d%%.",
                 between(r, 40, 85));
    } else if (strcmp(id, "aiohttp-client") == 0) {
        snprintf(out, size,
                 "I wrote a crawler on the aiohttp client that keeps %d connections busy "
                 "without tripping upstream rate limits.",
                 10 * between(r, 5, 80));
    } else if (strcmp(id, "event-loop") == 0) {
        snprintf(out, size,
                 "I found the synchronous DNS lookup that was stalling the event loop for %d ms "
                 "at a time under load, using asyncio debug mode and py-spy.",
                 10 * between(r, 8, 90));
    } else if (strcmp(id, "gather-wait") == 0) {
        int before = between(r, 30, 240), after = between(r, 3, 20);
        snprintf(out, size,
                 "I rewrote a report builder from sequential awaits to bounded gather calls, "
                 "dropping generation time from %d s to %d s.",
                 before, after);
    } else if (strcmp(id, "timeouts") == 0) {
        snprintf(out, size,
                 "I introduced end-to-end deadlines across %d services, so a slow dependency now "
                 "fails fast instead of exhausting worker slots.",
                 between(r, 3, 25));
    } else if (strcmp(id, "cancellation") == 0) {
        snprintf(out, size,
                 "I fixed a class of bugs where cancelled requests left half-written rows "
                 "behind, by shielding commits and cleaning up in finally blocks.");
    } else if (strcmp(id, "task-exceptions") == 0) {
        snprintf(out, size,
                 "I traced a stream of \"Task exception was never retrieved\" warnings to "
                 "fire-and-forget tasks that were silently dropping %s failures.",
                 PICK(r, flows));
    } else if (strcmp(id, "async-context-managers") == 0) {
        snprintf(out, size,
                 "I wrapped every pooled resource in async context managers, which ended a "
                 "slow connection leak that only showed up on client disconnects.");
    } else if (strcmp(id, "background-tasks") == 0) {
        snprintf(out, size,
                 "I replaced ad-hoc background tasks with a supervised worker pool that drains "
                 "on shutdown and reports every failure.");
    } else if (strcmp(id, "pytest-asyncio") == 0) {
        snprintf(out, size,
                 "I write pytest-asyncio suites that run against a real Postgres in CI rather "
                 "than mocks of it.");
    } else if (strcmp(id, "asyncmock") == 0) {
        snprintf(out, size,
                 "I use AsyncMock at the edges for third-party APIs and keep the core tested "
                 "against real services.");
    } else if (strcmp(id, "timeout-cancellation-tests") == 0) {
        snprintf(out, size,
                 "My test suites cancel requests mid-flight and assert that no connection or "
                 "lock is left behind.");
    } else if (strcmp(id, "concurrency-tests") == 0) {
        snprintf(out, size,
                 "I write concurrency tests that drive races deterministically with events "
                 "instead of sleeps.");
    } else if (strcmp(id, "distributed-tracing") == 0) {
        snprintf(out, size,
                 "I rolled out OpenTelemetry tracing across %d async services, which turned a "
                 "week-long latency hunt into an afternoon.",
                 between(r, 4, 40));
    } else if (strcmp(id, "rate-limiting") == 0) {
        snprintf(out, size,
                 "I built token-bucket rate limiting on Redis for a public API that serves %dk "
                 "requests a minute.",
                 5 * between(r, 1, 60));
    } else if (strcmp(id, "backpressure") == 0) {
        snprintf(out, size,
                 "I added backpressure to a webhook fan-out service with bounded queues, so "
                 "traffic spikes now slow producers down instead of crashing consumers.");
    } else if (strcmp(id, "circuit-breakers") == 0) {
        snprintf(out, size,
                 "I put circuit breakers and jittered retries in front of a flaky %s provider, "
                 "so its outages stopped taking checkout down with them.",
                 PICK(r, providers));
    } else if (strcmp(id, "graceful-shutdown") == 0) {
        snprintf(out, size,
                 "I made a Kubernetes worker fleet finish in-flight jobs on SIGTERM, ending a "
                 "weekly trickle of half-processed orders.");
    } else if (strcmp(id, "memory-leaks") == 0) {
        snprintf(out, size,
                 "I tracked a slow memory leak to an unbounded per-request cache and "
                 "never-awaited tasks, using tracemalloc on a live canary.");
    } else if (strcmp(id, "resource-safety") == 0) {
        snprintf(out, size,
                 "I audited connection and file-handle lifetimes in %s %s service and fixed "
                 "leaks that only appeared when clients hung up mid-stream.",
                 art, dom);
    }
    return out[0] != '\0';
}

static void opening(rng *r, int lvl, int years, int fw, char *out, size_t size)
{
    int d = below(r, N(domains));
    const char *art = domains[d].article, *dom = domains[d].name, *f = framework_prose(fw);
    switch (below(r, lvl == MID ? 5 : 6)) {
    case 0:
        snprintf(out, size,
                 "%d years of Python, most recently building async services with %s "
                 "in %s.",
                 years, f, dom);
        break;
    case 1:
        snprintf(out, size,
                 "Backend engineer with %d years of experience, mostly in %s, and a habit of "
                 "reading the asyncio source when something looks off.",
                 years, dom);
        break;
    case 2:
        snprintf(out, size,
                 "I have been shipping Python for %d years and moved to %s when %s %s platform "
                 "I worked on outgrew its thread pool.",
                 years, f, art, dom);
        break;
    case 3:
        snprintf(out, size,
                 "I build and rescue async Python services; %d years in, most of them "
                 "on %s.",
                 years, f);
        break;
    case 4:
        snprintf(out, size,
                 "Python engineer for %d years, focused on I/O-heavy %s backends built on %s.",
                 years, dom, f);
        break;
    default:
        snprintf(out, size,
                 "Over %d years I have taken backend teams from threads to asyncio, most "
                 "recently on %s at %s %s company.",
                 years, f, art, dom);
        break;
    }
}

static const char *const closings[3][3] = {
    {"I am looking to grow into production ownership alongside a senior team.",
     "Happy to pair with in-house engineers and write down what I learn.",
     "I like well-scoped tickets with clear acceptance criteria, and I ask early when they "
     "are not."},
    {"I like leaving teams with runbooks and dashboards, not just merged PRs.",
     "I work best on well-scoped engagements with a clear owner on the client side.",
     "I review async code the way I debug it: by asking what happens when each await is "
     "cancelled."},
    {"These days I mostly help teams design their concurrency model before it turns into an "
     "incident.",
     "I am most useful early: reviewing architecture, setting deadlines and error budgets, "
     "then mentoring the team that owns it.",
     "I have mentored a dozen engineers through their first on-call rotation on async "
     "services."},
};

/* Vetter notes: a strength for the best rubric line, then a gap for the
 * weakest or a recommendation. The first name goes between each pair. */
static const char *const strengths[5][2][2] = {
    {{"", " has a clear mental model of the event loop and explained why one blocking call "
          "stalls every request without prompting."},
     {"", " explained task scheduling and cancellation propagation precisely, down to what "
          "happens at each await."}},
    {{"", " handled timeouts, cancellation and task exceptions correctly on the first pass of "
          "the live exercise."},
     {"The live exercise was clean: ", " bounded the fan-out with a semaphore and cleaned up "
                                       "on cancellation."}},
    {{"Testing was the standout: ", " drove a race deterministically with events instead of "
                                    "sleeps."},
     {"", " wrote a cancellation test before touching the implementation, unprompted."}},
    {{"", " has strong production instincts and talked through backpressure and graceful "
          "shutdown from real incidents."},
     {"Incident stories from ", " were specific: real dashboards, real p99s, and what changed "
                                "afterwards."}},
    {{"", " reasoned about trade-offs like a tech lead and pushed back on a flawed premise in "
          "the design question."},
     {"", " led the design discussion comfortably and scoped a migration plan a client team "
          "could actually follow."}},
};
static const char *const gaps[5] = {
    "Event-loop fundamentals were shakier than the CV suggests.",
    "Missed a cancellation path in the live exercise until prompted.",
    "Tests leaned on sleeps and broad mocks; would benefit from pairing on that.",
    "Production answers were more textbook than lived-in.",
    "Less experience owning design decisions, so best placed on a team with a senior lead.",
};
/* the gap for the senior line, for someone already hired as senior or staff */
static const char *const senior_gap =
    "Design answers were sound but cautious; give a clear brief on architecture work.";
static const char *const recommendations[3] = {
    "A solid pick for well-scoped feature work.",
    "Comfortable recommending for senior engagements.",
    "Recommended for staff-level and architecture engagements.",
};

/* ---- the engineer ----------------------------------------------------------- */

void seed_engineer_make(unsigned seed, int i, seed_engineer *e)
{
    memset(e, 0, sizeof *e);
    rng r = {mix64(((uint64_t)seed << 32) ^ (uint32_t)i ^ 0xd1b54a32d192ed03ULL)};

    /* name: a keyed permutation of all (culture, first, last) triples, so
     * the first `total` engineers all have different names */
    uint32_t total = 0;
    for (int c = 0; c < N(cultures); c++)
        total += (uint32_t)(cultures[c].nfirst * cultures[c].nlast);
    uint32_t x = permute(seed, (uint32_t)i % total, total);
    const culture *cu = &cultures[0];
    for (int c = 0; c < N(cultures); c++) {
        uint32_t size = (uint32_t)(cultures[c].nfirst * cultures[c].nlast);
        if (x < size) {
            cu = &cultures[c];
            break;
        }
        x -= size;
    }
    const char *first = cu->first[x % (uint32_t)cu->nfirst];
    const char *last = cu->last[x / (uint32_t)cu->nfirst];
    snprintf(e->name, sizeof e->name, "%s %s", first, last);

    /* where: usually a zone of the culture, sometimes a hub abroad */
    const char *tz = chance(&r, 8) ? PICK(&r, hub_zones) : cu->zones[below(&r, cu->nzones)];
    snprintf(e->timezone, sizeof e->timezone, "%s", tz);

    /* level, and what follows from it */
    int u = below(&r, 100), lvl = u < 45 ? MID : u < 85 ? SENIOR : STAFF;
    static const char *const level_names[] = {"mid", "senior", "staff"};
    snprintf(e->level, sizeof e->level, "%s", level_names[lvl]);

    static const int ylo[] = {2, 5, 9}, yhi[] = {6, 12, 20};
    e->years_experience = between(&r, ylo[lvl], yhi[lvl]);

    /* rate: the band of the level, placed by experience and a little luck,
     * in steps of 5 per hour */
    static const int rlo[] = {4000, 8000, 14000}, rhi[] = {9000, 16000, 25000};
    long span = rhi[lvl] - rlo[lvl];
    long ypos = (long)(e->years_experience - ylo[lvl]) * 1000 / (yhi[lvl] - ylo[lvl]);
    long pos = (ypos + between(&r, 0, 1000)) / 2; /* 0..1000 */
    long rate = rlo[lvl] + span * pos / 1000;
    rate = (rate + 250) / 500 * 500;
    e->rate_amount = rate < 4000 ? 4000 : rate > 25000 ? 25000 : rate;

    const char *cur = "USD";
    if (strcmp(tz, "Europe/London") == 0 && chance(&r, 60)) cur = "GBP";
    for (int z = 0; z < N(eur_zones); z++)
        if (strcmp(tz, eur_zones[z]) == 0 && chance(&r, 60)) cur = "EUR";
    snprintf(e->currency, sizeof e->currency, "%s", cur);

    static const int hours[] = {10, 15, 20, 20, 20, 25, 30, 30, 30, 35, 40, 40, 40};
    e->hours_per_week = PICK(&r, hours);
    e->available = chance(&r, 90);

    /* skills: a primary framework, a concurrency skill, usually a driver,
     * then weighted picks that lean to production work as level rises */
    static const int smin[] = {4, 6, 8}, smax[] = {7, 10, 12};
    unsigned char taken[CATALOG_MAX] = {0};
    int order[SEED_MAX_SKILLS], n = 0;
    int want = between(&r, smin[lvl], smax[lvl]);
    if (want > skills_count) want = skills_count;
    int fw = pick_skill(&r, taken, 0, lvl);
    if (fw >= 0) taken[order[n++] = fw] = 1;
    int k = pick_skill(&r, taken, 3, lvl);
    if (k >= 0) taken[order[n++] = k] = 1;
    if (chance(&r, 90) && (k = pick_skill(&r, taken, 1, lvl)) >= 0) taken[order[n++] = k] = 1;
    while (n < want && (k = pick_skill(&r, taken, -1, lvl)) >= 0)
        taken[order[n++] = k] = 1;
    if (fw < 0) fw = order[0];
    for (int s = 2; s < n; s++) /* the rest in catalog order, after the main framework */
        for (int j = s; j > 1 && order[j - 1] > order[j]; j--) {
            int tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }

    static const int self_base[] = {3, 4, 4};
    static const int self_up[] = {25, 30, 50}, self_down[] = {25, 20, 10};
    for (int s = 0; s < n; s++) {
        int self = self_base[lvl];
        int roll = below(&r, 100);
        if (roll < self_up[lvl])
            self++;
        else if (roll < self_up[lvl] + self_down[lvl])
            self--;
        if (s == 0 && self < self_base[lvl] + 1)
            self = self_base[lvl] + 1; /* their main framework */
        self = clamp(self, 1, 5);
        int vroll = below(&r, 100);
        int vetted = vroll < 62 ? self : vroll < 88 ? self - 1 : self + 1;
        snprintf(e->skills[s].id, sizeof e->skills[s].id, "%s", skills_catalog[order[s]].id);
        e->skills[s].self_level = self;
        e->skills[s].vetted_level = clamp(vetted, 1, 5);
    }
    e->nskills = n;

    /* rubric: concepts, must_have, testing, production, senior */
    static const int score_base[3][5] = {{3, 3, 3, 3, 2}, {4, 4, 4, 4, 3}, {5, 4, 4, 5, 5}};
    static const int score_min[3][5] = {{2, 3, 2, 2, 1}, {3, 3, 3, 3, 3}, {4, 4, 3, 4, 4}};
    for (int c = 0; c < 5; c++) {
        int roll = below(&r, 100), s = score_base[lvl][c];
        if (roll < 20)
            s--;
        else if (roll < 45)
            s++;
        e->scores[c] = clamp(s, score_min[lvl][c], 5);
    }
    static const int qlo[] = {14, 16, 17}, qhi[] = {18, 20, 20};
    e->quiz_score = between(&r, qlo[lvl], qhi[lvl]);

    /* headline: level, main framework, and up to three things they do */
    const char *tags[3];
    int ntags = 0;
    int pref[3][3] = {{1, -1, -1}, {1, 2, -1}, {5, 3, 4}}; /* groups for each slot */
    unsigned char used[SEED_MAX_SKILLS] = {0};
    used[0] = 1;
    for (int slot = 0; slot < 3; slot++) {
        int got = 0;
        for (int p = 0; p < 3 && !got; p++)
            for (int s = 1; s < n && !got; s++)
                if (!used[s] && pref[slot][p] >= 0 && group_of(order[s]) == pref[slot][p]) {
                    used[s] = got = 1;
                    tags[ntags++] = skill_label(order[s]);
                }
    }
    for (int s = 1; s < n && ntags < 3; s++)
        if (!used[s]) {
            used[s] = 1;
            tags[ntags++] = skill_label(order[s]);
        }
    while (ntags < 3)
        tags[ntags++] = "asyncio";

    static const char *const staff_words[] = {"Staff ", "Principal "};
    const char *lw = lvl == MID ? "" : lvl == SENIOR ? "Senior " : PICK(&r, staff_words);
    const char *F = skill_label(fw);
    int lower = F[0] >= 'a' && F[0] <= 'z';
    int t = below(&r, 4);
    if (t == 0 && lvl == MID && lower) t = 1 + below(&r, 3);
    int len = -1;
    for (int tries = 0; tries < 5; tries++, t = (t + 1) % 4) {
        switch (t) {
        case 0:
            len = snprintf(e->headline, sizeof e->headline, "%s%s engineer — %s, %s, %s", lw, F,
                           tags[0], tags[1], tags[2]);
            break;
        case 1:
            len = snprintf(e->headline, sizeof e->headline,
                           "%s%s Python engineer (%s) — %s, %s and %s", lw,
                           lvl == MID ? "Async" : "async", F, tags[0], tags[1], tags[2]);
            break;
        case 2:
            len = snprintf(e->headline, sizeof e->headline, "%s%s engineer · %s, %s, %s", lw,
                           lvl == MID ? "Backend" : "backend", F, tags[0], tags[2]);
            break;
        default:
            len = snprintf(e->headline, sizeof e->headline, "%sPython engineer: %s and %s, with %s",
                           lw, F, tags[0], tags[2]);
            break;
        }
        if (len >= 0 && (size_t)len < sizeof e->headline) break;
    }
    if (len < 0 || (size_t)len >= sizeof e->headline) utf8_trim(e->headline);

    /* bio: an opening, one or two stories from their skills, maybe a word
     * on testing, maybe how they like to work; 2-4 sentences */
    char sentence[400];
    int nsent = 0;
    opening(&r, lvl, e->years_experience, fw, sentence, sizeof sentence);
    nsent += add_sentence(e->bio, sizeof e->bio, sentence);

    int cand[SEED_MAX_SKILLS], ncand = 0, tests[SEED_MAX_SKILLS], ntests = 0;
    for (int s = 0; s < n; s++) {
        if (group_of(order[s]) == 4)
            tests[ntests++] = order[s];
        else
            cand[ncand++] = order[s];
    }
    for (int s = ncand - 1; s > 0; s--) { /* shuffle the stories */
        int j = below(&r, s + 1), tmp = cand[s];
        cand[s] = cand[j];
        cand[j] = tmp;
    }
    int stories = lvl == MID ? 1 + chance(&r, 35) : 1 + chance(&r, 60), told = 0;
    for (int s = 0; s < ncand && told < stories; s++)
        if (achievement(&r, cand[s], sentence, sizeof sentence))
            told += add_sentence(e->bio, sizeof e->bio, sentence);
    if (told == 0) {
        snprintf(sentence, sizeof sentence,
                 "Most of my recent work is keeping I/O-bound services fast under load: "
                 "connection pools, timeouts and clean cancellation.");
        told += add_sentence(e->bio, sizeof e->bio, sentence);
    }
    nsent += told;
    if (nsent < 4 && ntests > 0 && chance(&r, 55) &&
        achievement(&r, tests[below(&r, ntests)], sentence, sizeof sentence))
        nsent += add_sentence(e->bio, sizeof e->bio, sentence);
    if (nsent < 4 && chance(&r, 45))
        nsent += add_sentence(e->bio, sizeof e->bio, closings[lvl][below(&r, 3)]);

    /* links */
    char f_part[48], l_part[48], handle[100];
    handle_part(first, f_part, sizeof f_part);
    handle_part(last, l_part, sizeof l_part);
    switch (below(&r, 5)) {
    case 0:
        snprintf(handle, sizeof handle, "%s%s", f_part, l_part);
        break;
    case 1:
        snprintf(handle, sizeof handle, "%s-%s", f_part, l_part);
        break;
    case 2:
        snprintf(handle, sizeof handle, "%.1s%s", f_part, l_part);
        break;
    case 3:
        snprintf(handle, sizeof handle, "%s%.1s%02d", f_part, l_part, below(&r, 100));
        break;
    default:
        snprintf(handle, sizeof handle, "%s-%s", l_part, f_part);
        break;
    }
    int nl = 0;
    int github = chance(&r, 93);
    if (github) snprintf(e->links[nl++], sizeof e->links[0], "https://github.com/%s", handle);
    if (!github || chance(&r, 50)) {
        static const char *const tlds[] = {"dev", "dev", "io", "codes", "net"};
        snprintf(e->links[nl++], sizeof e->links[0], "https://%s%s.%s", f_part, l_part,
                 PICK(&r, tlds));
    }
    if (chance(&r, 35)) {
        switch (below(&r, 3)) {
        case 0:
            snprintf(e->links[nl++], sizeof e->links[0], "https://www.linkedin.com/in/%s-%s",
                     f_part, l_part);
            break;
        case 1:
            snprintf(e->links[nl++], sizeof e->links[0], "https://pypi.org/user/%s/", handle);
            break;
        default:
            snprintf(e->links[nl++], sizeof e->links[0], "https://fosstodon.org/@%s", handle);
            break;
        }
    }
    e->nlinks = nl;

    /* the vetter's note: best rubric line, then the weakest or a verdict */
    int off = below(&r, 5), best = off, worst = off; /* a random start so ties vary */
    for (int c = 1; c < 5; c++) {
        int j = (off + c) % 5;
        if (e->scores[j] > e->scores[best]) best = j;
        if (e->scores[j] < e->scores[worst]) worst = j;
    }
    int v = below(&r, 2);
    snprintf(e->notes, sizeof e->notes, "%s%s%s", strengths[best][v][0], first,
             strengths[best][v][1]);
    if (chance(&r, 85)) {
        const char *second = recommendations[lvl];
        if (e->scores[worst] <= 3 && worst != best)
            second = worst == 4 && lvl != MID ? senior_gap : gaps[worst];
        add_sentence(e->notes, sizeof e->notes, second);
    }
}
