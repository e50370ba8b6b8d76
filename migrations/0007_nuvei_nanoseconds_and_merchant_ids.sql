-- Nuvei precedences carry the callback's timeStamp to the nanosecond: 21 time digits
-- instead of 15 (src/providers/precedence.ts, sortableTime). The six digits below the
-- millisecond are inserted after the 15 millisecond digits, recovered from status_time
-- (the timeStamp of the callback that set the row, from which the old digits came) where
-- it is an ISO time with a fraction, else zeros, as the new code computes them. Only
-- rows in the old encoding (a '|' right after the 15 digits) change.
UPDATE nuvei_transactions
SET precedence = substr(precedence, 1, 17) || (
    CASE
      WHEN substr(precedence, 3, 15) <> '000000000000000'
        -- Two short patterns: D1 refuses a GLOB pattern longer than 50 bytes.
        AND substr(status_time, 1, 10) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'
        AND substr(status_time, 11, 11) GLOB 'T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9]'
        AND (ltrim(substr(status_time, 21), '0123456789') IN ('', 'Z')
          OR ltrim(substr(status_time, 21), '0123456789') GLOB '[+-][0-9][0-9]:[0-9][0-9]')
      THEN substr(
        substr(status_time, 21, length(status_time) - 20 - length(ltrim(substr(status_time, 21), '0123456789')))
          || '000000000',
        4, 6)
      ELSE '000000'
    END) || substr(precedence, 18)
WHERE substr(precedence, 18, 1) = '|';
