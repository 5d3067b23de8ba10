-- Support organizations with their conformed account, or 'unattributed:support'
-- (NULL, unknown or deleted external_id).
select
    organizations.organization_id,
    coalesce(accounts.account_id, 'unattributed:support') as account_id,
    accounts.account_id is not null as is_attributed
from stg_support__organizations as organizations
left join stg_crm__accounts as accounts on accounts.account_id = organizations.external_id
