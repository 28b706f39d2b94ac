-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_TrainSession" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "projectId" INTEGER NOT NULL,
    "runId" TEXT NOT NULL,
    "runName" TEXT,
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" DATETIME,
    "device" TEXT,
    "cudaAvailable" BOOLEAN,
    "pytorchVersion" TEXT,
    "config" TEXT,
    "metadata" TEXT,
    "status" TEXT NOT NULL DEFAULT 'running',
    "statusVersion" INTEGER NOT NULL DEFAULT 0,
    "acknowledged" TEXT,
    "lastIssueKeys" TEXT,
    "stepSeq" INTEGER NOT NULL DEFAULT 0,
    "judgedSeq" INTEGER NOT NULL DEFAULT 0,
    "errorLogs" INTEGER NOT NULL DEFAULT 0,
    "judgedErrorLogs" INTEGER NOT NULL DEFAULT 0,
    "modelRevision" INTEGER NOT NULL DEFAULT 0,
    "bestLoss" REAL,
    "bestLossStep" INTEGER,
    "judgeOwner" TEXT,
    "judgeUntil" REAL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "TrainSession_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_TrainSession" ("config", "createdAt", "cudaAvailable", "device", "endedAt", "id", "metadata", "projectId", "pytorchVersion", "runId", "runName", "startedAt", "status") SELECT "config", "createdAt", "cudaAvailable", "device", "endedAt", "id", "metadata", "projectId", "pytorchVersion", "runId", "runName", "startedAt", "status" FROM "TrainSession";
DROP TABLE "TrainSession";
ALTER TABLE "new_TrainSession" RENAME TO "TrainSession";
CREATE INDEX "TrainSession_projectId_id_idx" ON "TrainSession"("projectId", "id");
CREATE INDEX "TrainSession_status_idx" ON "TrainSession"("status");
CREATE TABLE "new_TrainStep" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "sessionId" INTEGER NOT NULL,
    "stepIndex" INTEGER NOT NULL,
    "timestamp" TEXT,
    "durationSeconds" TEXT,
    "loss" TEXT,
    "throughput" TEXT,
    "profiler" TEXT,
    "memory" TEXT,
    "system" TEXT,
    "layerHealth" TEXT,
    "sustainability" TEXT,
    "carbonEmissions" TEXT,
    "extra" TEXT,
    "seq" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "TrainStep_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "TrainSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_TrainStep" ("carbonEmissions", "createdAt", "durationSeconds", "extra", "id", "layerHealth", "loss", "memory", "profiler", "sessionId", "stepIndex", "sustainability", "system", "throughput", "timestamp") SELECT "carbonEmissions", "createdAt", "durationSeconds", "extra", "id", "layerHealth", "loss", "memory", "profiler", "sessionId", "stepIndex", "sustainability", "system", "throughput", "timestamp" FROM "TrainStep";
DROP TABLE "TrainStep";
ALTER TABLE "new_TrainStep" RENAME TO "TrainStep";
CREATE INDEX "TrainStep_sessionId_seq_idx" ON "TrainStep"("sessionId", "seq");
CREATE UNIQUE INDEX "TrainStep_sessionId_stepIndex_key" ON "TrainStep"("sessionId", "stepIndex");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
