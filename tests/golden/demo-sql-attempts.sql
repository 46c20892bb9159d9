-- leads per (group, attempts, state, reason)
SELECT
  "t13"."__g0" AS "segment",
  "t13"."attempts",
  "t13"."state",
  "t13"."reason",
  COUNT(*) AS "leads",
  SUM("t13"."_revenue") AS "revenue_sum",
  SUM("t13"."_revenue" * "t13"."_revenue") AS "revenue_sq",
  COUNT("t13"."_revenue") AS "revenue_n"
FROM (
  SELECT
    "t12"."_lid",
    "t12"."__g0",
    "t12"."_status",
    "t12"."_closed",
    "t12"."_revenue",
    "t12"."_counted",
    "t12"."_stale",
    "t12"."_pid",
    "t12"."_n",
    "t12"."_n_e",
    "t12"."_contact",
    "t12"."_known",
    CASE
      WHEN NOT (
        "t12"."_stale"
      )
      OR (
        NOT (
          "t12"."_pid" IS NOT NULL
        )
        AND (
          "t12"."_counted" IS NOT NULL
        )
        AND (
          "t12"."_counted" < 0
        )
      )
      THEN 0
      ELSE CASE
        WHEN "t12"."_pid" IS NOT NULL
        THEN CASE
          WHEN (
            (
              "t12"."_closed" IS NULL
            )
            OR (
              "t12"."_closed" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
            )
          )
          AND (
            NOT (
              "t12"."_pid" IS NOT NULL
            ) OR (
              "t12"."_n" = "t12"."_n_e"
            )
          )
          THEN "t12"."_n"
          ELSE "t12"."_n_e"
        END
        ELSE COALESCE("t12"."_counted", 0)
      END
    END AS "attempts",
    CASE
      WHEN NOT (
        "t12"."_stale"
      )
      OR (
        NOT (
          "t12"."_pid" IS NOT NULL
        )
        AND (
          "t12"."_counted" IS NOT NULL
        )
        AND (
          "t12"."_counted" < 0
        )
      )
      THEN 'X'
      WHEN (
        "t12"."_status" = 'won'
      )
      AND (
        (
          (
            "t12"."_closed" IS NULL
          )
          OR (
            "t12"."_closed" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
          )
        )
        AND (
          NOT (
            "t12"."_pid" IS NOT NULL
          ) OR (
            "t12"."_n" = "t12"."_n_e"
          )
        )
      )
      THEN 'W'
      WHEN (
        "t12"."_status" = 'lost'
      )
      AND (
        (
          (
            "t12"."_closed" IS NULL
          )
          OR (
            "t12"."_closed" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
          )
        )
        AND (
          NOT (
            "t12"."_pid" IS NOT NULL
          ) OR (
            "t12"."_n" = "t12"."_n_e"
          )
        )
      )
      AND (
        (
          "t12"."_pid" IS NOT NULL
        ) AND COALESCE("t12"."_contact", FALSE)
      )
      THEN 'L'
      WHEN (
        "t12"."_status" = 'lost'
      )
      AND (
        (
          (
            "t12"."_closed" IS NULL
          )
          OR (
            "t12"."_closed" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
          )
        )
        AND (
          NOT (
            "t12"."_pid" IS NOT NULL
          ) OR (
            "t12"."_n" = "t12"."_n_e"
          )
        )
      )
      AND (
        CASE
          WHEN "t12"."_pid" IS NOT NULL
          THEN CASE
            WHEN (
              (
                "t12"."_closed" IS NULL
              )
              OR (
                "t12"."_closed" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
              )
            )
            AND (
              NOT (
                "t12"."_pid" IS NOT NULL
              ) OR (
                "t12"."_n" = "t12"."_n_e"
              )
            )
            THEN "t12"."_n"
            ELSE "t12"."_n_e"
          END
          ELSE COALESCE("t12"."_counted", 0)
        END > 0
      )
      AND NOT (
        (
          "t12"."_pid" IS NOT NULL
        ) AND COALESCE("t12"."_known", FALSE)
      )
      THEN 'A'
      ELSE 'C'
    END AS "state",
    CASE
      WHEN NOT (
        "t12"."_stale"
      )
      THEN 'immature'
      WHEN NOT (
        "t12"."_pid" IS NOT NULL
      )
      AND (
        "t12"."_counted" IS NOT NULL
      )
      AND (
        "t12"."_counted" < 0
      )
      THEN 'negative_count'
      ELSE ''
    END AS "reason"
  FROM (
    SELECT
      "t6"."_lid",
      "t6"."__g0",
      "t6"."_status",
      "t6"."_closed",
      "t6"."_revenue",
      "t6"."_counted",
      "t6"."_stale",
      "t11"."_pid",
      "t11"."_n",
      "t11"."_n_e",
      "t11"."_contact",
      "t11"."_known"
    FROM (
      SELECT
        "t0"."lead_id" AS "_lid",
        COALESCE("t0"."segment", '(none)') AS "__g0",
        "t0"."status" AS "_status",
        "t0"."closed_at" AS "_closed",
        "t0"."revenue" AS "_revenue",
        "t0"."attempts" AS "_counted",
        "t0"."created_at" < MAKE_TIMESTAMPTZ(2026, 6, 24, 16, 5, 43.9, 'UTC') AS "_stale"
      FROM "leads" AS "t0"
    ) AS "t6"
    LEFT OUTER JOIN (
      SELECT
        "t9"."_aid" AS "_pid",
        COUNT(*) FILTER(WHERE
          "t9"."_kind" IN ('call', 'email')
          AND (
            (
              "t9"."_closed" IS NULL
            )
            OR (
              "t9"."_closed" > MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
            )
            OR (
              "t9"."_at" < "t9"."_closed"
            )
          )) AS "_n",
        COUNT(*) FILTER(WHERE
          "t9"."_kind" IN ('call', 'email')
          AND (
            (
              "t9"."_closed" IS NULL
            )
            OR (
              "t9"."_closed" > MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
            )
            OR (
              "t9"."_at" < "t9"."_closed"
            )
          )
          AND (
            "t9"."_at" < MAKE_TIMESTAMPTZ(2026, 6, 24, 16, 5, 43.9, 'UTC')
          )) AS "_n_e",
        BOOL_OR(
          CAST("t9"."_outcome" IN ('connected', 'replied')
          AND (
            (
              "t9"."_closed" IS NULL
            )
            OR (
              "t9"."_closed" > MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
            )
            OR (
              "t9"."_at" <= "t9"."_closed"
            )
          ) AS BOOLEAN)
        ) AS "_contact",
        BOOL_OR(CAST("t9"."_outcome" IS NOT NULL AS BOOLEAN)) AS "_known"
      FROM (
        SELECT
          *
        FROM (
          SELECT
            "t5"."_aid",
            "t5"."_at",
            "t5"."_kind",
            "t5"."_outcome",
            "t7"."_lid",
            "t7"."_closed"
          FROM (
            SELECT
              "t1"."lead_id" AS "_aid",
              "t1"."at" AS "_at",
              "t1"."kind" AS "_kind",
              "t1"."outcome" AS "_outcome"
            FROM "activities" AS "t1"
          ) AS "t5"
          INNER JOIN (
            SELECT
              "t0"."lead_id" AS "_lid",
              "t0"."closed_at" AS "_closed"
            FROM "leads" AS "t0"
            WHERE
              "t0"."created_at" < MAKE_TIMESTAMPTZ(2026, 6, 24, 16, 5, 43.9, 'UTC')
          ) AS "t7"
            ON "t5"."_aid" = "t7"."_lid"
        ) AS "t8"
        WHERE
          "t8"."_at" <= MAKE_TIMESTAMPTZ(2026, 6, 30, 16, 0, 0.0, 'UTC')
      ) AS "t9"
      GROUP BY
        1
    ) AS "t11"
      ON "t6"."_lid" = "t11"."_pid"
  ) AS "t12"
) AS "t13"
GROUP BY
  1,
  2,
  3,
  4;

