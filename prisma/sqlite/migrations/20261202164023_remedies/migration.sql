-- AlterTable
ALTER TABLE "DiagnosticIssue" ADD COLUMN "remedies" TEXT;

-- CreateTable
CREATE TABLE "RemedyApplication" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "sessionId" INTEGER NOT NULL,
    "statusVersion" INTEGER NOT NULL,
    "stepIndex" INTEGER,
    "remedies" TEXT NOT NULL,
    "chosenBy" TEXT NOT NULL,
    "source" TEXT,
    "issueKeys" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "report" TEXT,
    "reportedAt" DATETIME,
    CONSTRAINT "RemedyApplication_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "TrainSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "RemedyApplication_sessionId_id_idx" ON "RemedyApplication"("sessionId", "id");

-- CreateIndex
CREATE UNIQUE INDEX "RemedyApplication_sessionId_statusVersion_key" ON "RemedyApplication"("sessionId", "statusVersion");
