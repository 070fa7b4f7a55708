module github.com/libsmartretry/smartretry/bindings-go

go 1.22
