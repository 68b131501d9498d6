<?php
// db.php: Laravel's query builder (Illuminate\Database) on a database that
// propusk shares in Laravel mode, driven from Go tests, as the app's own
// code would touch it.
//   php db.php CONFIG COMMAND ARGS…      runs one command
//   php db.php CONFIG -                  runs one command per line of stdin,
//                                        answering each with a line
// CONFIG is a JSON object: Laravel's connection array (driver, database,
// host, port, username, password, schema), plus "timezone" (app.timezone).
// Commands:
//   delete-token ID                 deletes a personal access token, as $token->delete() does
//   delete-user-tokens USER_ID      deletes every token of a user, as $user->tokens()->delete() does
//   update-user ID COLUMN VALUE     sets a column of a user, and updated_at, as Eloquent's save() does
//   delete-user ID                  deletes a user
//   user ID                         prints the user's row as JSON
//   token-by-hash SHA256            prints the token Sanctum's findToken would find, as JSON
//   noop                            does nothing: a command's own round trip
// Each command prints one line: "ok", or the JSON; errors go to stderr and
// end the script with status 1.
require_once '/usr/share/php/Illuminate/autoload.php';

use Illuminate\Database\Capsule\Manager as Capsule;

$config = json_decode($argv[1], true);
date_default_timezone_set($config['timezone'] ?? 'UTC');
unset($config['timezone']);
$capsule = new Capsule();
$capsule->addConnection($config + ['charset' => 'utf8', 'prefix' => '']);
$db = $capsule->getConnection();

// now is the app's wall clock, as Laravel's Carbon::now() formats it for the database.
function now_string() { return date('Y-m-d H:i:s'); }

function run($db, array $a) {
    switch ($a[0]) {
    case 'delete-token':
        $db->table('personal_access_tokens')->where('id', (int) $a[1])->delete();
        return 'ok';
    case 'delete-user-tokens':
        $db->table('personal_access_tokens')->where('tokenable_id', (int) $a[1])->delete();
        return 'ok';
    case 'update-user':
        $db->table('users')->where('id', (int) $a[1])->update([$a[2] => $a[3], 'updated_at' => now_string()]);
        return 'ok';
    case 'delete-user':
        $db->table('users')->where('id', (int) $a[1])->delete();
        return 'ok';
    case 'user':
        return json_encode($db->table('users')->where('id', (int) $a[1])->first());
    case 'noop':
        return 'ok';
    case 'token-by-hash':
        return json_encode($db->table('personal_access_tokens')->where('token', $a[1])->first());
    default:
        throw new InvalidArgumentException("unknown command {$a[0]}");
    }
}

try {
    if (($argv[2] ?? '') === '-') {
        while (($line = fgets(STDIN)) !== false) {
            echo run($db, explode(' ', rtrim($line, "\n"))), "\n";
            fflush(STDOUT);
        }
    } else {
        echo run($db, array_slice($argv, 2)), "\n";
    }
} catch (Throwable $e) {
    fwrite(STDERR, get_class($e) . ': ' . $e->getMessage() . "\n");
    exit(1);
}
