/* routes: every route of the server, who may call it, and how large a body
 * it takes. openapi.json beside this file describes each one; the API
 * tests fail when the two disagree. */
#include "api.h"

#define KB 1024

const route api_routes[] = {
    {HTTP_GET, "/healthz", api_healthz, 0, 0, 0},
    {HTTP_GET, "/readyz", api_readyz, 0, 0, 0},
    {HTTP_GET, "/metrics", api_metrics, 0, 0, 0},
    {HTTP_GET, "/api/v1/openapi.json", api_openapi, 0, 0, 0},
    {HTTP_POST, "/api/v1/auth/register", api_register, 0, 4 * KB, 0},
    {HTTP_POST, "/api/v1/auth/login", api_login, 0, 4 * KB, 0},
    {HTTP_POST, "/api/v1/auth/logout", api_logout, ROLES_SIGNED_IN, 1 * KB, 0},
    {HTTP_GET, "/api/v1/me", api_me, ROLES_SIGNED_IN, 0, 0},
    {HTTP_GET, "/api/v1/skills", api_skills, 0, 0, 0},
    {HTTP_GET, "/api/v1/me/profile", api_profile_get, ROLE_ENGINEER, 0, 0},
    {HTTP_PUT, "/api/v1/me/profile", api_profile_put, ROLE_ENGINEER, 64 * KB, 0},
    {HTTP_GET, "/api/v1/engineers/{id}", api_engineer_get, ROLES_SIGNED_IN, 0, 0},
    {HTTP_GET, "/api/v1/engineers/{id}/audit", api_engineer_audit, ROLE_VETTER | ROLE_ADMIN, 0, 0},
    {HTTP_POST, "/api/v1/engineers/{id}/scorecard", api_scorecard, ROLE_VETTER | ROLE_ADMIN, 64 * KB, 0},
    {HTTP_POST, "/api/v1/me/assessment", api_assessment_start, ROLE_ENGINEER, 0, 0},
    {HTTP_GET, "/api/v1/assessments/{id}", api_assessment_get, ROLE_ENGINEER, 0, 0},
    {HTTP_POST, "/api/v1/assessments/{id}/submit", api_assessment_submit, ROLE_ENGINEER, 16 * KB, 0},
    {HTTP_GET, "/api/v1/vetting/queue", api_vetting_queue, ROLE_VETTER | ROLE_ADMIN, 0, 0},
    {HTTP_POST, "/api/v1/requests", api_request_create, ROLE_CLIENT, 64 * KB, 0},
    {HTTP_GET, "/api/v1/requests", api_requests_list, ROLE_CLIENT | ROLE_ADMIN, 0, 0},
    {HTTP_GET, "/api/v1/requests/{id}", api_request_get, ROLE_CLIENT | ROLE_ADMIN, 0, 0},
    {HTTP_GET, "/api/v1/me/invitations", api_invitations, ROLE_ENGINEER, 0, 0},
    {HTTP_POST, "/api/v1/candidates/{id}/accept", api_candidate_accept, ROLE_ENGINEER, 1 * KB, 0},
    {HTTP_POST, "/api/v1/candidates/{id}/decline", api_candidate_decline, ROLE_ENGINEER, 4 * KB, 0},
    {HTTP_GET, "/api/v1/admin/sla", api_admin_sla, ROLE_ADMIN, 0, 0},
    {HTTP_GET, "/api/v1/me/notifications", api_notifications, ROLES_SIGNED_IN, 0, 0},
    {HTTP_GET, "/api/v1/conversations", api_conversations, ROLES_SIGNED_IN, 0, 0},
    {HTTP_GET, "/api/v1/conversations/{id}/messages", api_messages_list, ROLES_SIGNED_IN, 0, 0},
    {HTTP_POST, "/api/v1/conversations/{id}/messages", api_message_post, ROLES_SIGNED_IN, 64 * KB, 0},
    {HTTP_POST, "/api/v1/conversations/{id}/read", api_conversation_read, ROLES_SIGNED_IN, 1 * KB, 0},
    {HTTP_GET, "/api/v1/conversations/{id}/interview", api_interview_get, ROLES_SIGNED_IN, 0, 0},
    {HTTP_POST, "/api/v1/conversations/{id}/interview", api_interview_propose, ROLE_CLIENT, 8 * KB, 0},
    {HTTP_POST, "/api/v1/conversations/{id}/interview/accept", api_interview_accept, ROLE_ENGINEER, 1 * KB, 0},
    {HTTP_POST, "/api/v1/conversations/{id}/interview/cancel", api_interview_cancel, ROLES_SIGNED_IN, 1 * KB, 0},
    {HTTP_GET, "/api/v1/admin/outbox", api_outbox_list, ROLE_ADMIN, 0, 0},
    {HTTP_GET, "/api/v1/admin/outbox/{id}", api_outbox_get, ROLE_ADMIN, 0, 0},
    {HTTP_POST, "/api/v1/admin/outbox/{id}/retry", api_outbox_retry, ROLE_ADMIN, 1 * KB, 0},
    {HTTP_GET, "/api/v1/events", api_events, ROLES_SIGNED_IN, 0, 0},
    {HTTP_POST, "/api/v1/_test/clock", api_test_clock, 0, 1 * KB, ROUTE_TEST_ONLY},
};

const int api_nroutes = sizeof api_routes / sizeof api_routes[0];
