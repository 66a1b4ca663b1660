<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Support;

/**
 * Turns the module's etc/db_schema.xml into MySQL/SQLite CREATE TABLE statements, so the tests run against
 * exactly the declared tables (a column missing from db_schema.xml fails the tests).
 */
class DbSchemaSql
{
    /**
     * @return list<string>
     */
    public static function createStatements(string $schemaFile, string $dialect = 'mysql'): array
    {
        $dom = new \DOMDocument();
        if (!$dom->load($schemaFile)) {
            throw new \RuntimeException('cannot parse ' . $schemaFile);
        }
        $xsi = 'http://www.w3.org/2001/XMLSchema-instance';
        $statements = [];
        foreach ($dom->getElementsByTagName('table') as $table) {
            $name = $table->getAttribute('name');
            $lines = [];
            $primary = [];
            $identity = null;
            foreach ($table->getElementsByTagName('constraint') as $constraint) {
                if ($constraint->getAttributeNS($xsi, 'type') === 'primary') {
                    foreach ($constraint->getElementsByTagName('column') as $column) {
                        $primary[] = $column->getAttribute('name');
                    }
                }
            }
            foreach ($table->childNodes as $column) {
                if (!$column instanceof \DOMElement || $column->tagName !== 'column') {
                    continue;
                }
                $type = $column->getAttributeNS($xsi, 'type');
                $sqlType = match ($type) {
                    'int' => 'INT',
                    'smallint' => 'SMALLINT',
                    'bigint' => 'BIGINT',
                    'varchar' => 'VARCHAR(' . ($column->getAttribute('length') ?: '255') . ')',
                    'text' => 'TEXT',
                    'mediumtext' => 'MEDIUMTEXT',
                    'datetime' => 'DATETIME',
                    'timestamp' => 'TIMESTAMP',
                    default => throw new \RuntimeException('unmapped column type ' . $type . ' in ' . $name),
                };
                $isIdentity = $column->getAttribute('identity') === 'true';
                if ($dialect === 'sqlite') {
                    $sqlType = $isIdentity ? 'INTEGER' : $sqlType;
                } elseif ($column->getAttribute('unsigned') === 'true') {
                    $sqlType .= ' UNSIGNED';
                }
                $line = $column->getAttribute('name') . ' ' . $sqlType;
                $line .= $column->getAttribute('nullable') === 'false' ? ' NOT NULL' : ' NULL';
                if ($column->hasAttribute('default')) {
                    $line .= " DEFAULT '" . $column->getAttribute('default') . "'";
                }
                if ($isIdentity) {
                    $identity = $column->getAttribute('name');
                    $line .= $dialect === 'sqlite' ? ' PRIMARY KEY AUTOINCREMENT' : ' AUTO_INCREMENT';
                }
                $lines[] = $line;
            }
            if ($primary !== [] && !($dialect === 'sqlite' && $identity !== null)) {
                $lines[] = 'PRIMARY KEY (' . implode(', ', $primary) . ')';
            }
            $suffix = $dialect === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4' : '';
            $statements[] = 'CREATE TABLE ' . $name . " (\n  " . implode(",\n  ", $lines) . "\n)" . $suffix;
        }
        return $statements;
    }
}
