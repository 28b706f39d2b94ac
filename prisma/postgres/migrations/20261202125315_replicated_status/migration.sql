-- AlterTable
ALTER TABLE "TrainSession" ADD COLUMN     "acknowledged" TEXT,
ADD COLUMN     "bestLoss" DOUBLE PRECISION,
ADD COLUMN     "bestLossStep" INTEGER,
ADD COLUMN     "errorLogs" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "judgeOwner" TEXT,
ADD COLUMN     "judgeUntil" DOUBLE PRECISION,
ADD COLUMN     "judgedErrorLogs" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "judgedSeq" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "lastIssueKeys" TEXT,
ADD COLUMN     "modelRevision" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "statusVersion" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "stepSeq" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "TrainStep" ADD COLUMN     "seq" INTEGER NOT NULL DEFAULT 0;

-- CreateIndex
CREATE INDEX "TrainStep_sessionId_seq_idx" ON "TrainStep"("sessionId", "seq");
