-- CreateTable
CREATE TABLE "Project" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "TrainSession" (
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
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "TrainSession_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Model" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "sessionId" INTEGER NOT NULL,
    "architecture" TEXT,
    "hyperparameters" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Model_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "TrainSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "TrainStep" (
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
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "TrainStep_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "TrainSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "SessionLog" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "sessionId" INTEGER NOT NULL,
    "ts" TEXT,
    "level" TEXT NOT NULL DEFAULT 'INFO',
    "msg" TEXT NOT NULL,
    "module" TEXT,
    "lineno" INTEGER,
    "kind" TEXT NOT NULL DEFAULT 'console',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "SessionLog_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "TrainSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "DiagnosticRun" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "sessionId" INTEGER NOT NULL,
    "stepIndex" INTEGER,
    "healthScore" INTEGER NOT NULL,
    "issueCount" INTEGER NOT NULL,
    "verdict" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "DiagnosticRun_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "TrainSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "DiagnosticIssue" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "runId" INTEGER NOT NULL,
    "severity" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "suggestion" TEXT,
    "layerId" TEXT,
    "epochIndex" INTEGER,
    "metricValue" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "DiagnosticIssue_runId_fkey" FOREIGN KEY ("runId") REFERENCES "DiagnosticRun" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "TrainSession_projectId_id_idx" ON "TrainSession"("projectId", "id");

-- CreateIndex
CREATE INDEX "TrainSession_status_idx" ON "TrainSession"("status");

-- CreateIndex
CREATE UNIQUE INDEX "Model_sessionId_key" ON "Model"("sessionId");

-- CreateIndex
CREATE UNIQUE INDEX "TrainStep_sessionId_stepIndex_key" ON "TrainStep"("sessionId", "stepIndex");

-- CreateIndex
CREATE INDEX "SessionLog_sessionId_id_idx" ON "SessionLog"("sessionId", "id");

-- CreateIndex
CREATE INDEX "DiagnosticRun_sessionId_id_idx" ON "DiagnosticRun"("sessionId", "id");

-- CreateIndex
CREATE INDEX "DiagnosticIssue_runId_idx" ON "DiagnosticIssue"("runId");
