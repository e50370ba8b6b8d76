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

-- amount, currency and transaction_type each come from the highest-precedence webhook
-- that carried them (src/providers/nuvei/store.ts): a later webhook without the field no
-- longer blanks it, in whatever order they arrive. A row written before kept one
-- precedence for all; it stands for each field the row holds.
ALTER TABLE nuvei_transactions ADD COLUMN amount_precedence TEXT;
ALTER TABLE nuvei_transactions ADD COLUMN currency_precedence TEXT;
ALTER TABLE nuvei_transactions ADD COLUMN transaction_type_precedence TEXT;
UPDATE nuvei_transactions
SET amount_precedence = iif(amount IS NULL, NULL, precedence),
    currency_precedence = iif(currency IS NULL, NULL, precedence),
    transaction_type_precedence = iif(transaction_type IS NULL, NULL, precedence);

-- GET /api/nuvei/transactions?merchantTransactionId= reads every row of a merchant id:
-- its transactionIds' rows and its `merchant:` row (webhooks without transactionId).
CREATE INDEX nuvei_transactions_by_merchant ON nuvei_transactions (merchant_transaction_id)
  WHERE merchant_transaction_id IS NOT NULL;
