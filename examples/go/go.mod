module smartretry.example/smartretry

go 1.22
