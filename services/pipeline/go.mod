module github.com/evcrm/evcrm/services/pipeline

go 1.26.8

require (
	github.com/evcrm/evcrm/libs v0.0.0-00010101000000-000000000000
	github.com/shopspring/decimal v1.4.0
	github.com/stretchr/testify v1.12.1
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect

// libs lives in this repository; the replace lets the module build outside the workspace too
// (container builds copy the repository and build one service).
replace github.com/evcrm/evcrm/libs => ../../libs
