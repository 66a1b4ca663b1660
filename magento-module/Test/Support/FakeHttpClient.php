<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Support;

use LeakGuard\Connector\Model\Transport\HttpClientInterface;
use LeakGuard\Connector\Model\Transport\HttpResponse;
use LeakGuard\Connector\Model\Transport\TransportException;

/** Scripted server: answers from a queue (HttpResponse or exception) and records each request. */
class FakeHttpClient implements HttpClientInterface
{
    /** @var list<array{method: string, url: string, headers: array<string, string>, body: string}> */
    public array $requests = [];
    /** @var list<HttpResponse|\Throwable> */
    public array $answers = [];

    public function request(string $method, string $url, array $headers, string $body): HttpResponse
    {
        $this->requests[] = ['method' => $method, 'url' => $url, 'headers' => $headers, 'body' => $body];
        $answer = array_shift($this->answers) ?? new HttpResponse(200, '{}');
        if ($answer instanceof \Throwable) {
            throw $answer;
        }
        return $answer;
    }

    public function down(int $times = 1): self
    {
        for ($i = 0; $i < $times; $i++) {
            $this->answers[] = new TransportException('LeakGuard server unreachable', true);
        }
        return $this;
    }

    public function answer(int $status, string $body = '{}'): self
    {
        $this->answers[] = new HttpResponse($status, $body);
        return $this;
    }
}
