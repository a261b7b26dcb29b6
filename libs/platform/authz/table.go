package authz

// Role groups the table is written with. Admin is allowed everything by [Allowed] and is not
// repeated in them.
var (
	// salesWrite changes sales records (leads, contacts, accounts, activities, opportunities).
	salesWrite = []Role{SalesManager, SalesRep}
	// crmRead reads leads, contacts, accounts and activities.
	crmRead = []Role{SalesManager, SalesRep, Marketing, Integration}
	// dealRead reads opportunities, quotes and contracts. Marketing is left out because those
	// carry amounts; it reads opportunities alone (GetOpportunity, ListOpportunities) for
	// campaign attribution, and the pipeline service withholds their amounts ([SeesAmounts]).
	dealRead = []Role{SalesManager, SalesRep, Integration}
	// managers configures the sales side (pipelines, territories, scoring).
	managers = []Role{SalesManager}
	// marketingWrite changes campaigns, segments and rules.
	marketingWrite = []Role{Marketing}
	// marketingRead reads campaigns, members, segments and rules.
	marketingRead = []Role{Marketing, SalesManager, Integration}
	// analyticsRead reads the analytics read models; sales reps use the pipeline's own forecast.
	analyticsRead = []Role{SalesManager, Marketing, Analyst, Integration}
	// adminOnly is an empty list: only admin.
	adminOnly = []Role{}
	// operatorOnly is for the platform's methods ([PlatformMethods]), which admin is not
	// implicitly allowed.
	operatorOnly = []Role{Operator}
)

// PlatformMethods act on every tenant at once: a tenant's admin may not call them, only the
// roles their [Table] entry names.
var PlatformMethods = map[string]bool{
	"/crm.analytics.v1.AnalyticsService/Rebuild": true,
}

// with returns the roles of base plus extra (a fresh slice, so groups are never aliased).
func with(base []Role, extra ...Role) []Role {
	return append(append([]Role{}, base...), extra...)
}

// Table maps the full gRPC method name of every RPC of every evcrm service to the roles allowed
// to call it (admin is always allowed). It is the single source of truth for authorization;
// docs/security.md renders it (TestSecurityDocTable keeps the two in step) and TestTableCoversEveryRPC
// fails when an RPC is missing. Do not modify it at run time.
var Table = map[string][]Role{
	// Analytics: reads for analysts and managers; rebuilding the projection of every tenant is
	// the platform operator's.
	"/crm.analytics.v1.AnalyticsService/GetFunnel":              analyticsRead,
	"/crm.analytics.v1.AnalyticsService/GetStageMetrics":        analyticsRead,
	"/crm.analytics.v1.AnalyticsService/GetSalesVelocity":       analyticsRead,
	"/crm.analytics.v1.AnalyticsService/GetForecast":            analyticsRead,
	"/crm.analytics.v1.AnalyticsService/GetCampaignPerformance": analyticsRead,
	"/crm.analytics.v1.AnalyticsService/GetTimeline":            analyticsRead,
	"/crm.analytics.v1.AnalyticsService/GetProjectionStatus":    {Analyst, Operator},
	"/crm.analytics.v1.AnalyticsService/Rebuild":                operatorOnly,

	// Campaigns, members, segments and automation rules: marketing's.
	"/crm.campaign.v1.CampaignService/CreateCampaign":       marketingWrite,
	"/crm.campaign.v1.CampaignService/GetCampaign":          marketingRead,
	"/crm.campaign.v1.CampaignService/UpdateCampaign":       marketingWrite,
	"/crm.campaign.v1.CampaignService/ChangeCampaignStatus": marketingWrite,
	"/crm.campaign.v1.CampaignService/RecordCampaignCost":   marketingWrite,
	"/crm.campaign.v1.CampaignService/ListCampaigns":        marketingRead,
	"/crm.campaign.v1.CampaignService/AddMembers":           marketingWrite,
	"/crm.campaign.v1.CampaignService/ListMembers":          marketingRead,
	"/crm.campaign.v1.CampaignService/GetMemberHistory":     marketingRead,
	"/crm.campaign.v1.CampaignService/RecordResponse":       marketingWrite,
	"/crm.campaign.v1.CampaignService/RecordResponses":      marketingWrite,
	"/crm.campaign.v1.CampaignService/CreateSegment":        marketingWrite,
	"/crm.campaign.v1.CampaignService/GetSegment":           marketingRead,
	"/crm.campaign.v1.CampaignService/UpdateSegment":        marketingWrite,
	"/crm.campaign.v1.CampaignService/DeleteSegment":        marketingWrite,
	"/crm.campaign.v1.CampaignService/ListSegments":         marketingRead,
	"/crm.campaign.v1.CampaignService/PreviewSegment":       marketingRead,
	"/crm.campaign.v1.CampaignService/EnrollSegment":        marketingWrite,
	"/crm.campaign.v1.CampaignService/CreateRule":           marketingWrite,
	"/crm.campaign.v1.CampaignService/GetRule":              marketingRead,
	"/crm.campaign.v1.CampaignService/UpdateRule":           marketingWrite,
	"/crm.campaign.v1.CampaignService/SetRuleEnabled":       marketingWrite,
	"/crm.campaign.v1.CampaignService/DeleteRule":           marketingWrite,
	"/crm.campaign.v1.CampaignService/ListRules":            marketingRead,
	"/crm.campaign.v1.CampaignService/DryRunRule":           marketingWrite,
	"/crm.campaign.v1.CampaignService/ListRuleRuns":         marketingRead,

	// Accounts.
	"/crm.leads.v1.AccountsService/CreateAccount":  salesWrite,
	"/crm.leads.v1.AccountsService/GetAccount":     crmRead,
	"/crm.leads.v1.AccountsService/UpdateAccount":  salesWrite,
	"/crm.leads.v1.AccountsService/ListAccounts":   crmRead,
	"/crm.leads.v1.AccountsService/SearchAccounts": crmRead,

	// Activities and tasks; campaign rules create tasks (service).
	"/crm.leads.v1.ActivitiesService/LogActivity":    salesWrite,
	"/crm.leads.v1.ActivitiesService/GetActivity":    crmRead,
	"/crm.leads.v1.ActivitiesService/ListActivities": crmRead,
	"/crm.leads.v1.ActivitiesService/CreateTask":     with(salesWrite, Service),
	"/crm.leads.v1.ActivitiesService/GetTask":        crmRead,
	"/crm.leads.v1.ActivitiesService/UpdateTask":     salesWrite,
	"/crm.leads.v1.ActivitiesService/CompleteTask":   salesWrite,
	"/crm.leads.v1.ActivitiesService/CancelTask":     salesWrite,
	"/crm.leads.v1.ActivitiesService/ReopenTask":     salesWrite,
	"/crm.leads.v1.ActivitiesService/ListTasks":      crmRead,
	"/crm.leads.v1.ActivitiesService/GetTimeline":    crmRead,

	// Contacts; campaign reads them for segments and suppression (service).
	"/crm.leads.v1.ContactsService/CreateContact":  salesWrite,
	"/crm.leads.v1.ContactsService/GetContact":     with(crmRead, Service),
	"/crm.leads.v1.ContactsService/UpdateContact":  salesWrite,
	"/crm.leads.v1.ContactsService/ListContacts":   with(crmRead, Service),
	"/crm.leads.v1.ContactsService/SearchContacts": crmRead,

	// Leads. Marketing captures leads and works their tags and engagement; campaign rules
	// assign and tag (service).
	"/crm.leads.v1.LeadsService/CreateLead":       with(salesWrite, Marketing),
	"/crm.leads.v1.LeadsService/GetLead":          with(crmRead, Service),
	"/crm.leads.v1.LeadsService/UpdateLead":       salesWrite,
	"/crm.leads.v1.LeadsService/ChangeLeadStatus": salesWrite,
	"/crm.leads.v1.LeadsService/DisqualifyLead":   salesWrite,
	"/crm.leads.v1.LeadsService/RecycleLead":      salesWrite,
	"/crm.leads.v1.LeadsService/SetBant":          salesWrite,
	"/crm.leads.v1.LeadsService/AssignLead":       with(salesWrite, Service),
	"/crm.leads.v1.LeadsService/AddLeadTags":      with(salesWrite, Marketing, Service),
	"/crm.leads.v1.LeadsService/RemoveLeadTags":   with(salesWrite, Marketing, Service),
	"/crm.leads.v1.LeadsService/RecordEngagement": with(salesWrite, Marketing),
	"/crm.leads.v1.LeadsService/MergeLeads":       managers,
	// Erasing a person (GDPR) cannot be undone: admin only.
	"/crm.leads.v1.LeadsService/ErasePerson":        adminOnly,
	"/crm.leads.v1.LeadsService/ConvertLead":        salesWrite,
	"/crm.leads.v1.LeadsService/ListLeads":          with(crmRead, Service),
	"/crm.leads.v1.LeadsService/SearchLeads":        crmRead,
	"/crm.leads.v1.LeadsService/GetScoringModel":    crmRead,
	"/crm.leads.v1.LeadsService/UpdateScoringModel": managers,
	"/crm.leads.v1.LeadsService/ListTerritories":    crmRead,
	"/crm.leads.v1.LeadsService/UpsertTerritory":    managers,
	"/crm.leads.v1.LeadsService/DeleteTerritory":    managers,
	"/crm.leads.v1.LeadsService/ListCustomFields":   crmRead,
	"/crm.leads.v1.LeadsService/DefineCustomField":  adminOnly,
	"/crm.leads.v1.LeadsService/DeleteCustomField":  adminOnly,
	"/crm.leads.v1.LeadsService/GetLeadSettings":    crmRead,
	"/crm.leads.v1.LeadsService/UpdateLeadSettings": adminOnly,

	// Bulk import and export: exports are how data leaves, so sales reps and marketing do not.
	"/crm.leads.v1.DataTransferService/ImportRecords": {SalesManager, Marketing},
	"/crm.leads.v1.DataTransferService/ExportRecords": {SalesManager, Integration},

	// Pipelines (configuration) and opportunities, quotes, contracts (deals). Lead conversion
	// opens the opportunity with the converting user's token; CreateOpportunity is also open to
	// the service credential for conversions resumed outside a request.
	"/crm.pipeline.v1.PipelineService/CreatePipeline":                    managers,
	"/crm.pipeline.v1.PipelineService/GetPipeline":                       with(dealRead, Marketing),
	"/crm.pipeline.v1.PipelineService/ListPipelines":                     with(dealRead, Marketing),
	"/crm.pipeline.v1.PipelineService/UpdatePipeline":                    managers,
	"/crm.pipeline.v1.PipelineService/ArchivePipeline":                   managers,
	"/crm.pipeline.v1.PipelineService/GetPipelineConfig":                 dealRead,
	"/crm.pipeline.v1.PipelineService/UpdatePipelineConfig":              adminOnly,
	"/crm.pipeline.v1.PipelineService/CreateOpportunity":                 with(salesWrite, Service),
	"/crm.pipeline.v1.PipelineService/GetOpportunity":                    with(dealRead, Marketing),
	"/crm.pipeline.v1.PipelineService/UpdateOpportunity":                 salesWrite,
	"/crm.pipeline.v1.PipelineService/MoveOpportunityStage":              salesWrite,
	"/crm.pipeline.v1.PipelineService/UpdateOpportunityAmount":           salesWrite,
	"/crm.pipeline.v1.PipelineService/UpdateOpportunityCloseDate":        salesWrite,
	"/crm.pipeline.v1.PipelineService/UpdateOpportunityProbability":      salesWrite,
	"/crm.pipeline.v1.PipelineService/UpdateOpportunityForecastCategory": salesWrite,
	"/crm.pipeline.v1.PipelineService/AssignOpportunity":                 salesWrite,
	"/crm.pipeline.v1.PipelineService/SetOpportunityContactRoles":        salesWrite,
	"/crm.pipeline.v1.PipelineService/MarkOpportunityWon":                salesWrite,
	"/crm.pipeline.v1.PipelineService/MarkOpportunityLost":               salesWrite,
	"/crm.pipeline.v1.PipelineService/ReopenOpportunity":                 salesWrite,
	"/crm.pipeline.v1.PipelineService/ListOpportunities":                 with(dealRead, Marketing),
	"/crm.pipeline.v1.PipelineService/GetForecast":                       dealRead,
	"/crm.pipeline.v1.PipelineService/CreateQuote":                       salesWrite,
	"/crm.pipeline.v1.PipelineService/ReviseQuote":                       salesWrite,
	"/crm.pipeline.v1.PipelineService/SendQuote":                         salesWrite,
	"/crm.pipeline.v1.PipelineService/AcceptQuote":                       salesWrite,
	"/crm.pipeline.v1.PipelineService/RejectQuote":                       salesWrite,
	"/crm.pipeline.v1.PipelineService/GetQuote":                          dealRead,
	"/crm.pipeline.v1.PipelineService/ListQuotes":                        dealRead,
	"/crm.pipeline.v1.PipelineService/CreateContract":                    salesWrite,
	"/crm.pipeline.v1.PipelineService/GetContract":                       dealRead,
	"/crm.pipeline.v1.PipelineService/UpdateContract":                    salesWrite,
	"/crm.pipeline.v1.PipelineService/ActivateContract":                  salesWrite,
	"/crm.pipeline.v1.PipelineService/TerminateContract":                 managers,
	"/crm.pipeline.v1.PipelineService/RenewContract":                     salesWrite,
	"/crm.pipeline.v1.PipelineService/ListContracts":                     dealRead,
}
