<?php
// sanctum.php: what a Laravel app with Sanctum does to its users and
// tokens, with Illuminate's query builder and Hash, for tests that run
// beside a propusk serving the same database. Sanctum itself is not
// packaged here, so its few lines that matter are followed exactly:
// HasApiTokens::createToken and PersonalAccessToken::findToken (4.x).
//   php sanctum.php CONFIG COMMAND ARGS…
// CONFIG is db.php's: Laravel's connection array plus "timezone"
// (app.timezone) and, optionally, "token_prefix" (sanctum.token_prefix).
// Commands:
//   create-user EMAIL PASSWORD          inserts a user as User::create does, password through
//                                        Hash::make (bcrypt, the skeleton's 10 rounds); prints its id
//   check-password ID PASSWORD          prints 1 when Hash::check accepts the user's stored hash
//   create-token USER_ID TYPE NAME [MINUTES]
//                                        inserts a token as createToken does, with abilities ["*"]
//                                        and, given MINUTES, expires_at that far from now (negative:
//                                        in the past); prints the plainTextToken "<id>|<secret>"
//   create-tokens USER_ID TYPE N        creates N tokens as above; prints one plainTextToken a line
//   find-token PLAINTEXT                prints, as JSON, the row findToken returns, or null
//   not-null-columns TABLE              prints the table's NOT NULL columns, as JSON
// Errors go to stderr and end the script with status 1.
require_once '/usr/share/php/Illuminate/autoload.php';

use Illuminate\Database\Capsule\Manager as Capsule;
use Illuminate\Hashing\BcryptHasher;
use Illuminate\Support\Str;

$config = json_decode($argv[1], true);
date_default_timezone_set($config['timezone'] ?? 'UTC');
$prefix = $config['token_prefix'] ?? '';
unset($config['timezone'], $config['token_prefix'], $config['tokenable_type']);
$capsule = new Capsule();
$capsule->addConnection($config + ['charset' => 'utf8', 'prefix' => '']);
$db = $capsule->getConnection();

// now is the app's wall clock, as Carbon::now() is written to the database.
function now_string($offset = 0) { return date('Y-m-d H:i:s', time() + $offset); }

function create_token($db, $prefix, $userId, $type, $name, $minutes = null) {
    // Sanctum 4's generateTokenString: prefix, 40 random characters, their crc32b.
    $entropy = Str::random(40);
    $secret = $prefix . $entropy . hash('crc32b', $entropy);
    $row = [
        'tokenable_type' => $type, 'tokenable_id' => (int) $userId, 'name' => $name,
        'token' => hash('sha256', $secret), 'abilities' => json_encode(['*']),
        'created_at' => now_string(), 'updated_at' => now_string(),
    ];
    if ($minutes !== null) {
        $row['expires_at'] = now_string((int) $minutes * 60);
    }
    $id = $db->table('personal_access_tokens')->insertGetId($row);
    return $id . '|' . $secret;
}

$a = array_slice($argv, 2);
try {
    switch ($a[0]) {
    case 'create-user':
        $hash = (new BcryptHasher(['rounds' => 10]))->make($a[2]);
        echo $db->table('users')->insertGetId([
            'name' => 'Made In Laravel', 'email' => $a[1], 'password' => $hash,
            'created_at' => now_string(), 'updated_at' => now_string(),
        ]), "\n";
        break;
    case 'check-password':
        $hash = $db->table('users')->where('id', (int) $a[1])->value('password');
        echo $hash !== null && (new BcryptHasher())->check($a[2], $hash) ? "1\n" : "0\n";
        break;
    case 'create-token':
        echo create_token($db, $prefix, $a[1], $a[2], $a[3], $a[4] ?? null), "\n";
        break;
    case 'create-tokens':
        for ($i = 0; $i < (int) $a[3]; $i++) {
            echo create_token($db, $prefix, $a[1], $a[2], 'batch'), "\n";
        }
        break;
    case 'find-token':
        // PersonalAccessToken::findToken, Sanctum 4.
        $token = $a[1];
        if (strpos($token, '|') === false) {
            $row = $db->table('personal_access_tokens')->where('token', hash('sha256', $token))->first();
        } else {
            [$id, $token] = explode('|', $token, 2);
            $row = $db->table('personal_access_tokens')->where('id', $id)->first();
            if ($row && !hash_equals($row->token, hash('sha256', $token))) {
                $row = null;
            }
        }
        echo json_encode($row), "\n";
        break;
    case 'not-null-columns':
        switch ($db->getDriverName()) {
        case 'sqlite':
            $cols = array_map(fn($c) => $c->name, array_filter($db->select("PRAGMA table_info({$a[1]})"), fn($c) => $c->notnull));
            break;
        default:
            $schema = $db->getDriverName() === 'pgsql' ? $db->selectOne('SELECT current_schema() AS s')->s : $db->getDatabaseName();
            $cols = array_map(fn($c) => $c->column_name, $db->select(
                "SELECT column_name AS column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? AND is_nullable = 'NO'",
                [$schema, $a[1]]));
        }
        echo json_encode(array_values($cols)), "\n";
        break;
    default:
        throw new InvalidArgumentException("unknown command {$a[0]}");
    }
} catch (Throwable $e) {
    fwrite(STDERR, get_class($e) . ': ' . $e->getMessage() . "\n");
    exit(1);
}
