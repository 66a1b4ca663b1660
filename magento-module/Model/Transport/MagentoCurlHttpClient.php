<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Transport;

use Magento\Framework\HTTP\Client\CurlFactory;

/**
 * {@see HttpClientInterface} over Magento's curl client (GET and POST are all the server API needs).
 */
class MagentoCurlHttpClient implements HttpClientInterface
{
    private const TIMEOUT_SECONDS = 10;

    private CurlFactory $curlFactory;

    public function __construct(CurlFactory $curlFactory)
    {
        $this->curlFactory = $curlFactory;
    }

    public function request(string $method, string $url, array $headers, string $body): HttpResponse
    {
        $curl = $this->curlFactory->create();
        $curl->setTimeout(self::TIMEOUT_SECONDS);
        $curl->setHeaders($headers);
        $curl->setOption(CURLOPT_CONNECTTIMEOUT, 5);
        try {
            if ($method === 'GET') {
                $curl->get($url);
            } elseif ($method === 'POST') {
                $curl->post($url, $body);
            } else {
                throw new TransportException('unsupported HTTP method ' . $method, false);
            }
        } catch (TransportException $e) {
            throw $e;
        } catch (\Exception $e) {
            throw new TransportException('LeakGuard server unreachable for ' . $method . ' ' . (string) parse_url($url, PHP_URL_PATH), true, $e);
        }
        return new HttpResponse((int) $curl->getStatus(), (string) $curl->getBody());
    }
}
