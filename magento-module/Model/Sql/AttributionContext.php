<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Sql;

/**
 * Who is running the current request's SQL: set once by the admin dispatch plugin or the REST plugin,
 * read by the query plugin for every statement (so the hot path does no lookups).
 */
class AttributionContext
{
    private ?string $comment = null;

    public function __construct(private readonly CommentFormatter $formatter)
    {
    }

    public function set(?int $adminId, ?int $integrationId, ?string $route, ?string $requestId): void
    {
        $this->comment = $this->formatter->format([
            'lg_admin' => $adminId === null ? null : (string) $adminId,
            'lg_integration' => $integrationId === null ? null : (string) $integrationId,
            'lg_route' => $route,
            'lg_req' => $requestId,
        ]);
    }

    public function clear(): void
    {
        $this->comment = null;
    }

    /** The comment to prefix, e.g. lg_admin='12',lg_route='customer_index_index',lg_req='ab12' inside a C comment, or null. */
    public function comment(): ?string
    {
        return $this->comment;
    }
}
