<?php
// hash.php: Laravel's Hash facade without the app, driven from Go tests.
//   php hash.php make <bcrypt|argon|argon2id> <password>   prints Hash::make's hash
//   php hash.php check <hash> <password>                   prints 1 when Hash::check accepts
// The password may also come on stdin, as "-", for bytes a command line cannot carry.
require_once '/usr/share/php/Illuminate/autoload.php';

use Illuminate\Hashing\Argon2IdHasher;
use Illuminate\Hashing\ArgonHasher;
use Illuminate\Hashing\BcryptHasher;

function password_arg($a) { return $a === '-' ? stream_get_contents(STDIN) : $a; }

// The skeleton's config/hashing.php: bcrypt rounds 10; argon memory 1024, threads 2, time 2.
$drivers = [
    'bcrypt' => fn() => new BcryptHasher(['rounds' => 10]),
    'argon' => fn() => new ArgonHasher(['memory' => 1024, 'threads' => 2, 'time' => 2]),
    'argon2id' => fn() => new Argon2IdHasher(['memory' => 1024, 'threads' => 2, 'time' => 2]),
];
switch ($argv[1]) {
case 'make':
    echo $drivers[$argv[2]]()->make(password_arg($argv[3]));
    break;
case 'check':
    // BcryptHasher::check is password_verify, whatever the algorithm of the hash.
    echo (new BcryptHasher())->check(password_arg($argv[3]), $argv[2]) ? '1' : '0';
    break;
default:
    fwrite(STDERR, "usage: hash.php make|check …\n");
    exit(2);
}
