/* skills: the catalog as data (see skills.h). */
#include "skills.h"
#include <string.h>

static const struct {
    const char *id, *name;
} groups[] = {
    {"frameworks", "Frameworks"},       {"database-drivers", "Database drivers"},
    {"http-clients", "HTTP clients"},   {"concurrency", "Concurrency"},
    {"testing", "Testing async code"}, {"production", "Production"},
};

const skill skills_catalog[] = {
    {"fastapi", "FastAPI", "frameworks"},
    {"sanic", "Sanic", "frameworks"},
    {"django-async", "Django (async views, ORM)", "frameworks"},
    {"aiohttp", "aiohttp server", "frameworks"},
    {"starlette", "Starlette", "frameworks"},
    {"asyncpg", "asyncpg", "database-drivers"},
    {"aiosqlite", "aiosqlite", "database-drivers"},
    {"motor", "Motor (MongoDB)", "database-drivers"},
    {"sqlalchemy-async", "SQLAlchemy asyncio", "database-drivers"},
    {"redis-asyncio", "redis.asyncio", "database-drivers"},
    {"httpx", "HTTPX", "http-clients"},
    {"aiohttp-client", "aiohttp client", "http-clients"},
    {"event-loop", "The event loop", "concurrency"},
    {"gather-wait", "gather and wait", "concurrency"},
    {"timeouts", "Timeouts", "concurrency"},
    {"cancellation", "Cancellation", "concurrency"},
    {"task-exceptions", "Task exceptions", "concurrency"},
    {"async-context-managers", "Async context managers", "concurrency"},
    {"background-tasks", "Background tasks", "concurrency"},
    {"pytest-asyncio", "pytest-asyncio", "testing"},
    {"asyncmock", "AsyncMock", "testing"},
    {"timeout-cancellation-tests", "Timeout and cancellation tests", "testing"},
    {"concurrency-tests", "Concurrency tests", "testing"},
    {"distributed-tracing", "Distributed tracing", "production"},
    {"rate-limiting", "Rate limiting", "production"},
    {"backpressure", "Backpressure", "production"},
    {"circuit-breakers", "Circuit breakers", "production"},
    {"graceful-shutdown", "Graceful shutdown", "production"},
    {"memory-leaks", "Memory leaks", "production"},
    {"resource-safety", "Resource safety", "production"},
};

const int skills_count = sizeof skills_catalog / sizeof skills_catalog[0];

int skills_find(const char *id)
{
    for (int i = 0; i < skills_count; i++)
        if (strcmp(skills_catalog[i].id, id) == 0) return i;
    return -1;
}

json_t *skills_catalog_json(void)
{
    json_t *arr = json_array();
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        json_t *items = json_array();
        for (int i = 0; i < skills_count; i++)
            if (strcmp(skills_catalog[i].group, groups[g].id) == 0)
                json_array_append_new(items, json_pack("{s:s,s:s}", "id", skills_catalog[i].id,
                                                       "name", skills_catalog[i].name));
        json_array_append_new(arr, json_pack("{s:s,s:s,s:o}", "id", groups[g].id, "name",
                                             groups[g].name, "skills", items));
    }
    return json_pack("{s:o}", "groups", arr);
}
