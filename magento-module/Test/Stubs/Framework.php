<?php
/**
 * Test-only stand-ins for the Magento framework types the module touches.
 *
 * Signatures follow Magento 2.4.7/2.4.8 so that code passing here links against the real framework.
 * Behaviour is the minimum the unit tests need; nothing here ships with the module.
 */
declare(strict_types=1);

namespace Magento\Framework {
    class DataObject implements \ArrayAccess
    {
        protected $_data = [];

        public function __construct(array $data = [])
        {
            $this->_data = $data;
        }

        public function getData($key = '', $index = null)
        {
            if ($key === '') {
                return $this->_data;
            }
            return $this->_data[$key] ?? null;
        }

        public function setData($key, $value = null)
        {
            if (is_array($key)) {
                $this->_data = $key;
            } else {
                $this->_data[$key] = $value;
            }
            return $this;
        }

        public function hasData($key = '')
        {
            return $key === '' ? !empty($this->_data) : array_key_exists($key, $this->_data);
        }

        public function getId()
        {
            return $this->_data['id'] ?? null;
        }

        public function __call($method, $args)
        {
            $key = strtolower((string) preg_replace('/(.)([A-Z])/', '$1_$2', substr($method, 3)));
            switch (substr($method, 0, 3)) {
                case 'get':
                    return $this->getData($key);
                case 'set':
                    return $this->setData($key, $args[0] ?? null);
                case 'has':
                    return isset($this->_data[$key]);
            }
            throw new \BadMethodCallException('Invalid method ' . static::class . '::' . $method);
        }

        public function offsetExists($offset): bool
        {
            return isset($this->_data[$offset]);
        }

        public function offsetGet($offset): mixed
        {
            return $this->_data[$offset] ?? null;
        }

        public function offsetSet($offset, $value): void
        {
            $this->_data[$offset] = $value;
        }

        public function offsetUnset($offset): void
        {
            unset($this->_data[$offset]);
        }
    }

    interface AuthorizationInterface
    {
        public function isAllowed($resource, $privilege = null);
    }
}

namespace Magento\Framework {
    class Event extends DataObject
    {
        public function getName()
        {
            return $this->_data['name'] ?? null;
        }
    }
}

namespace Magento\Framework\Event {
    class Observer extends \Magento\Framework\DataObject
    {
        public function getEvent()
        {
            return $this->_data['event'] ?? null;
        }
    }

    interface ObserverInterface
    {
        public function execute(Observer $observer);
    }

    interface ManagerInterface
    {
        public function dispatch($eventName, array $data = []);
    }
}

namespace Magento\Framework\App\Config {
    interface ScopeConfigInterface
    {
        const SCOPE_TYPE_DEFAULT = 'default';

        public function getValue($path, $scopeType = ScopeConfigInterface::SCOPE_TYPE_DEFAULT, $scopeCode = null);

        public function isSetFlag($path, $scopeType = ScopeConfigInterface::SCOPE_TYPE_DEFAULT, $scopeCode = null);
    }

    interface ReinitableConfigInterface extends ScopeConfigInterface
    {
        public function reinit();
    }
}

namespace Magento\Framework\App\Config\Storage {
    interface WriterInterface
    {
        public function delete($path, $scope = \Magento\Framework\App\Config\ScopeConfigInterface::SCOPE_TYPE_DEFAULT, $scopeId = 0);

        public function save($path, $value, $scope = \Magento\Framework\App\Config\ScopeConfigInterface::SCOPE_TYPE_DEFAULT, $scopeId = 0);
    }
}

namespace Magento\Framework\Encryption {
    interface EncryptorInterface
    {
        public function getHash($password, $salt = false);

        public function hash($data);

        public function validateHash($password, $hash);

        public function isValidHash($password, $hash);

        public function validateHashVersion($hash, $validateCount = false);

        public function encrypt($data);

        public function decrypt($data);

        public function validateKey($key);
    }
}

namespace Magento\Framework\App {
    interface RequestInterface
    {
        public function getModuleName();

        public function setModuleName($name);

        public function getActionName();

        public function setActionName($name);

        public function getParam($key, $defaultValue = null);

        public function setParams(array $params);

        public function getParams();

        public function getCookie($name, $default);

        public function isSecure();
    }

    interface ResponseInterface
    {
        public function sendResponse();
    }

    interface ActionInterface
    {
        public function execute();
    }

    class State
    {
        private string $areaCode;

        public function __construct(string $areaCode = 'adminhtml')
        {
            $this->areaCode = $areaCode;
        }

        public function getAreaCode()
        {
            return $this->areaCode;
        }
    }

    class ResourceConnection
    {
        public function getConnection($resourceName = 'default')
        {
            throw new \LogicException('stub');
        }

        public function getTableName($modelEntity, $connectionName = 'default')
        {
            return is_array($modelEntity) ? implode('_', $modelEntity) : $modelEntity;
        }
    }
}

namespace Magento\Framework\App\Request {
    /**
     * Subset of the HTTP request used by the module; parameters, headers and server vars are plain arrays.
     */
    class Http implements \Magento\Framework\App\RequestInterface
    {
        private array $params;
        private array $headers;
        private array $server;
        private string $module = '';
        private string $controller = '';
        private string $action = '';
        private string $route = '';
        private string $method;
        private string $pathInfo;
        private bool $dispatched = true;

        public function __construct(
            string $fullActionName = '',
            array $params = [],
            array $headers = [],
            array $server = [],
            string $method = 'GET',
            string $pathInfo = '/'
        ) {
            $parts = $fullActionName === '' ? [] : explode('_', $fullActionName);
            $this->route = $parts[0] ?? '';
            $this->module = $parts[0] ?? '';
            $this->action = count($parts) > 1 ? (string) array_pop($parts) : '';
            $this->controller = implode('_', array_slice($parts, 1));
            $this->params = $params;
            $this->headers = array_change_key_case($headers, CASE_LOWER);
            $this->server = $server;
            $this->method = $method;
            $this->pathInfo = $pathInfo;
        }

        public function getFullActionName($delimiter = '_')
        {
            return $this->route . $delimiter . $this->controller . $delimiter . $this->action;
        }

        public function getRouteName()
        {
            return $this->route;
        }

        public function getControllerName()
        {
            return $this->controller;
        }

        public function getModuleName()
        {
            return $this->module;
        }

        public function setModuleName($name)
        {
            $this->module = $name;
            return $this;
        }

        public function getActionName()
        {
            return $this->action;
        }

        public function setActionName($name)
        {
            $this->action = $name;
            return $this;
        }

        public function getParam($key, $defaultValue = null)
        {
            return $this->params[$key] ?? $defaultValue;
        }

        public function setParams(array $params)
        {
            $this->params = $params + $this->params;
            return $this;
        }

        public function getParams()
        {
            return $this->params;
        }

        public function getCookie($name = null, $default = null)
        {
            return $default;
        }

        public function isSecure()
        {
            return false;
        }

        public function getHeader($name, $default = false)
        {
            return $this->headers[strtolower($name)] ?? $default;
        }

        public function getServer($name = null, $default = null)
        {
            return $name === null ? $this->server : ($this->server[$name] ?? $default);
        }

        public function getMethod()
        {
            return $this->method;
        }

        public function getPathInfo()
        {
            return $this->pathInfo;
        }

        public function getRequestUri()
        {
            return $this->pathInfo;
        }

        public function isDispatched()
        {
            return $this->dispatched;
        }

        public function setDispatched($flag = true)
        {
            $this->dispatched = $flag;
            return $this;
        }
    }
}

namespace Magento\Framework\App\Response {
    class Http implements \Magento\Framework\App\ResponseInterface
    {
        private int $code = 200;

        public function setHttpResponseCode($code)
        {
            $this->code = (int) $code;
            return $this;
        }

        public function getHttpResponseCode()
        {
            return $this->code;
        }

        public function getStatusCode()
        {
            return $this->code;
        }

        public function sendResponse()
        {
            return null;
        }
    }
}

namespace Magento\Framework\Webapi\Rest {
    class Response extends \Magento\Framework\App\Response\Http
    {
        private array $exceptions = [];

        public function setException($exception)
        {
            $this->exceptions[] = $exception;
            return $this;
        }

        public function isException()
        {
            return $this->exceptions !== [];
        }

        public function getException()
        {
            return $this->exceptions;
        }
    }
}

namespace Magento\Framework\Webapi {
    class Exception extends \Exception
    {
        private int $httpCode;

        public function __construct($phrase = '', $code = 0, $httpCode = 400)
        {
            parent::__construct((string) $phrase, (int) $code);
            $this->httpCode = (int) $httpCode;
        }

        public function getHttpCode()
        {
            return $this->httpCode;
        }
    }

    class ServiceOutputProcessor
    {
        public function process($data, $serviceClassName, $serviceMethodName)
        {
            return $data;
        }
    }
}

namespace Magento\Framework\HTTP\PhpEnvironment {
    class RemoteAddress
    {
        private ?string $address;

        public function __construct(?string $address = '203.0.113.7')
        {
            $this->address = $address;
        }

        public function getRemoteAddress(bool $ipToLong = false)
        {
            return $this->address ?? false;
        }
    }
}

namespace Magento\Framework\HTTP\Client {
    /**
     * Scriptable stand-in for Magento's curl client: tests queue responses and read the requests sent.
     */
    class Curl
    {
        public array $sent = [];
        public array $responses = [];
        private array $headers = [];
        private array $options = [];
        private int $status = 0;
        private string $body = '';

        public function __construct($sslVersion = null)
        {
        }

        public function setTimeout($value)
        {
        }

        public function setHeaders($headers)
        {
            $this->headers = $headers;
        }

        public function addHeader($name, $value)
        {
            $this->headers[$name] = $value;
        }

        public function setOption($name, $value)
        {
            $this->options[$name] = $value;
        }

        public function setOptions($arr)
        {
            $this->options = $arr;
        }

        public function get($uri)
        {
            $this->makeRequest('GET', $uri);
        }

        public function post($uri, $params)
        {
            $this->makeRequest('POST', $uri, $params);
        }

        protected function makeRequest($method, $uri, $params = [])
        {
            $this->sent[] = ['method' => $method, 'uri' => $uri, 'headers' => $this->headers, 'body' => $params];
            $next = array_shift($this->responses);
            if ($next instanceof \Exception) {
                throw $next;
            }
            [$this->status, $this->body] = $next ?? [200, '{}'];
        }

        public function getStatus()
        {
            return $this->status;
        }

        public function getBody()
        {
            return $this->body;
        }
    }

    class CurlFactory
    {
        public ?Curl $instance = null;

        public function create(array $data = [])
        {
            return $this->instance ??= new Curl();
        }
    }
}

namespace Magento\Framework\App\Filesystem {
    class DirectoryList
    {
        const LOG = 'log';
        const VAR_DIR = 'var';

        private string $root;

        public function __construct($root = '/tmp', array $config = [])
        {
            $this->root = (string) $root;
        }

        public function getPath($code)
        {
            return $this->root . '/var' . ($code === self::LOG ? '/log' : '');
        }
    }
}

namespace Magento\Framework\DB {
    class Select
    {
        private string $sql;
        private array $bind;

        public function __construct(string $sql = 'SELECT 1', array $bind = [])
        {
            $this->sql = $sql;
            $this->bind = $bind;
        }

        public function getBind()
        {
            return $this->bind;
        }

        public function assemble()
        {
            return $this->sql;
        }

        public function __toString()
        {
            return $this->assemble();
        }
    }
}

namespace Magento\Framework\DB\Adapter {
    interface AdapterInterface
    {
        public function beginTransaction();

        public function commit();

        public function rollBack();

        public function query($sql, $bind = []);

        public function fetchAll($sql, $bind = [], $fetchMode = null);

        public function fetchOne($sql, $bind = []);

        public function quoteIdentifier($ident, $auto = false);

        public function lastInsertId($tableName = null, $primaryKey = null);
    }
}

namespace Magento\Framework\DB\Adapter\Pdo {
    class Mysql implements \Magento\Framework\DB\Adapter\AdapterInterface
    {
        public array $log = [];

        public function beginTransaction()
        {
            return $this;
        }

        public function commit()
        {
            return $this;
        }

        public function rollBack()
        {
            return $this;
        }

        public function query($sql, $bind = [])
        {
            $this->log[] = [(string) $sql, $bind];
            return null;
        }

        public function fetchAll($sql, $bind = [], $fetchMode = null)
        {
            return [];
        }

        public function fetchOne($sql, $bind = [])
        {
            return false;
        }

        public function quoteIdentifier($ident, $auto = false)
        {
            return '`' . str_replace('`', '``', (string) $ident) . '`';
        }

        public function lastInsertId($tableName = null, $primaryKey = null)
        {
            return '0';
        }
    }
}

namespace Magento\Framework\Console {
    class CommandList
    {
        private array $commands;

        public function __construct(array $commands = [])
        {
            $this->commands = $commands;
        }

        public function getCommands()
        {
            return $this->commands;
        }
    }
}

namespace {
    if (!function_exists('__')) {
        /** Magento's translation helper: returns the text with %1, %2... replaced. */
        function __($text, ...$args)
        {
            foreach (array_values($args) as $i => $arg) {
                $text = str_replace('%' . ($i + 1), (string) $arg, (string) $text);
            }
            return (string) $text;
        }
    }
}
