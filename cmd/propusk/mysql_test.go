package main

import (
	"testing"

	"github.com/propusk/propusk/mysql/mytest"
)

// TestTwoProcessesMySQL is TestTwoProcesses on MySQL/MariaDB, which has no
// push: the processes follow the feed by polling it.
func TestTwoProcessesMySQL(t *testing.T) {
	testTwoProcesses(t, func(t *testing.T) *cluster { return startClusterOn(t, mytest.DSN(t)) })
}

// TestTwoProcessesUserAdminMySQL is TestTwoProcessesUserAdmin on
// MySQL/MariaDB: the other process learns of the disable and the delete by
// polling the feed.
func TestTwoProcessesUserAdminMySQL(t *testing.T) {
	testTwoProcessesUserAdmin(t, func(t *testing.T) *cluster { return startClusterOn(t, mytest.DSN(t)) })
}

// TestDatabaseOutageMySQL is TestDatabaseOutage on MySQL/MariaDB: the proxy
// forwards bytes of any protocol.
func TestDatabaseOutageMySQL(t *testing.T) { testDatabaseOutage(t, mytest.DSN(t)) }
