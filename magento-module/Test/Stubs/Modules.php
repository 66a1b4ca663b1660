<?php
/**
 * Test-only stand-ins for the Magento module classes (Backend, User, Webapi, Integration,
 * Authorization) the module plugs into. Signatures follow Magento 2.4.7/2.4.8.
 */
declare(strict_types=1);

namespace Magento\User\Model {
    class User extends \Magento\Framework\DataObject
    {
        public function getId()
        {
            return $this->_data['user_id'] ?? null;
        }

        public function getUserName()
        {
            return $this->_data['username'] ?? null;
        }

        public function getRole()
        {
            return $this->_data['role'] ?? null;
        }
    }
}

namespace Magento\Authorization\Model {
    interface UserContextInterface
    {
        const USER_TYPE_INTEGRATION = 1;
        const USER_TYPE_ADMIN = 2;
        const USER_TYPE_CUSTOMER = 3;
        const USER_TYPE_GUEST = 4;

        public function getUserId();

        public function getUserType();
    }

    class Role extends \Magento\Framework\DataObject
    {
        public function getId()
        {
            return $this->_data['role_id'] ?? null;
        }
    }
}

namespace Magento\Backend\Model\Auth {
    class Session
    {
        private $user;

        public function __construct($user = null)
        {
            $this->user = $user;
        }

        public function getUser()
        {
            return $this->user;
        }

        public function setUser($user)
        {
            $this->user = $user;
            return $this;
        }

        public function isLoggedIn()
        {
            return $this->user !== null;
        }
    }
}

namespace Magento\Backend\Model {
    class Auth
    {
        private Auth\Session $session;

        public function __construct(?Auth\Session $session = null)
        {
            $this->session = $session ?? new Auth\Session();
        }

        public function getAuthStorage()
        {
            return $this->session;
        }

        public function getUser()
        {
            return $this->session->getUser();
        }

        public function logout()
        {
            $this->session->setUser(null);
        }

        public function isLoggedIn()
        {
            return $this->session->isLoggedIn();
        }
    }
}

namespace Magento\Backend\App {
    abstract class AbstractAction implements \Magento\Framework\App\ActionInterface
    {
        protected $_response;

        public function dispatch(\Magento\Framework\App\RequestInterface $request)
        {
            return $this->execute();
        }

        public function getResponse()
        {
            return $this->_response ??= new \Magento\Framework\App\Response\Http();
        }
    }
}

namespace Magento\Framework\Controller\Result {
    class Redirect
    {
        public ?string $url = null;
        public ?string $path = null;

        public function setUrl($url)
        {
            $this->url = $url;
            return $this;
        }

        public function setPath($path, array $params = [])
        {
            $this->path = $path;
            return $this;
        }
    }

    class RedirectFactory
    {
        public function create(array $data = [])
        {
            return new Redirect();
        }
    }
}

namespace Magento\Framework\Message {
    interface ManagerInterface
    {
        public function addErrorMessage($message, $group = null);

        public function addSuccessMessage($message, $group = null);
    }
}

namespace Magento\Backend\App\Action {
    class Context
    {
        public function __construct(
            public \Magento\Framework\App\RequestInterface $request,
            public \Magento\Backend\Model\Auth $auth,
            public \Magento\Framework\AuthorizationInterface $authorization,
            public \Magento\Framework\Controller\Result\RedirectFactory $resultRedirectFactory,
            public \Magento\Framework\Message\ManagerInterface $messageManager
        ) {
        }
    }
}

namespace Magento\Backend\App {
    abstract class Action extends AbstractAction
    {
        const ADMIN_RESOURCE = 'Magento_Backend::admin';

        protected $_auth;
        protected $_authorization;
        protected $resultRedirectFactory;
        protected $messageManager;
        protected $_request;

        public function __construct(Action\Context $context)
        {
            $this->_auth = $context->auth;
            $this->_authorization = $context->authorization;
            $this->resultRedirectFactory = $context->resultRedirectFactory;
            $this->messageManager = $context->messageManager;
            $this->_request = $context->request;
        }

        protected function _isAllowed()
        {
            return $this->_authorization->isAllowed(static::ADMIN_RESOURCE);
        }

        public function getRequest()
        {
            return $this->_request;
        }
    }
}

namespace Magento\Framework\App\Action {
    interface HttpGetActionInterface extends \Magento\Framework\App\ActionInterface
    {
    }
}

namespace Magento\Webapi\Controller\Rest\Router {
    class Route
    {
        public function __construct(
            private string $serviceClass = '',
            private string $serviceMethod = '',
            private array $aclResources = [],
            private string $routePath = ''
        ) {
        }

        public function getServiceClass()
        {
            return $this->serviceClass;
        }

        public function getServiceMethod()
        {
            return $this->serviceMethod;
        }

        public function getAclResources()
        {
            return $this->aclResources;
        }

        public function getRoutePath()
        {
            return $this->routePath;
        }
    }
}

namespace Magento\Webapi\Controller\Rest {
    class InputParamsResolver
    {
        public function __construct(private ?Router\Route $route = null)
        {
        }

        public function getRoute()
        {
            if ($this->route === null) {
                throw new \Magento\Framework\Webapi\Exception('Request does not match any route.', 0, 404);
            }
            return $this->route;
        }
    }
}

namespace Magento\Framework\App {
    interface FrontControllerInterface
    {
        public function dispatch(RequestInterface $request);
    }
}

namespace Magento\Webapi\Controller {
    class Rest implements \Magento\Framework\App\FrontControllerInterface
    {
        public function dispatch(\Magento\Framework\App\RequestInterface $request)
        {
            return new \Magento\Framework\Webapi\Rest\Response();
        }
    }
}

namespace Magento\Integration\Api {
    interface IntegrationServiceInterface
    {
        public function create(array $integrationData);

        public function get($integrationId);

        public function findByName($integrationName);

        public function findByConsumerId($consumerId);

        public function findActiveIntegrationByConsumerId($consumerId);

        public function update(array $integrationData);

        public function delete($integrationId);

        public function getSelectedResources($integrationId);
    }

    interface AuthorizationServiceInterface
    {
        const PERMISSION_ANONYMOUS = 'anonymous';
        const PERMISSION_SELF = 'self';

        public function grantPermissions($integrationId, $resources);

        public function grantAllPermissions($integrationId);

        public function removePermissions($integrationId);
    }
}

namespace Magento\Integration\Model {
    class Integration extends \Magento\Framework\DataObject
    {
        const STATUS_INACTIVE = 0;
        const STATUS_ACTIVE = 1;
        const STATUS_RECREATED = 2;

        public function getId()
        {
            return $this->_data['integration_id'] ?? null;
        }
    }
}
