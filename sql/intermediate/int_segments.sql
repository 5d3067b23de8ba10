-- The segments month-level marts report on: 'all' (every account, pseudo-accounts included)
-- plus the three CRM segments of the contract, each present even in a month without accounts.
select segment
from (values ('all'), ('smb'), ('mid_market'), ('enterprise')) as segments (segment)
