package dev.parley.server.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the embedded H2 database back to its newest commit after a stop that was not clean (a
 * {@code kill -9}, an out-of-memory kill, a crash), before the server opens it.
 *
 * <p>Why it is needed. H2 2.5.252 reopens a file that was not closed cleanly by following a chain:
 * the file header names a chunk, and each chunk predicts where the next will be written. When a
 * prediction misses, H2 rewrites the header, but with the chunk <em>before</em> the one that missed
 * (the header is written while that one is still the "last chunk"). The chain from the header then
 * leads to where the next chunk was expected, not where it is, and the commits from the missed
 * chunk until the next header write are dropped on reopening, although they are in the file.
 * Predictions start to miss once H2 reuses the space of old chunks, 45 s (its retention time) after
 * it starts writing, so a busy server killed after that lost its last few acknowledged messages
 * (issue 11, docs/performance.md: 3 to 33 per crash).
 *
 * <p>H2's recovery mode does not follow the chain: it reads every block of the file, finds every
 * complete chunk and takes the newest whose references are all present. Opening the file that way,
 * once, and closing it cleanly leaves a header that names the newest chunk, and the database then
 * opens with every commit. The scan reads the whole file (1.5 to 3.5 s per GB here), so it runs
 * only after an unclean stop, which a marker in the data directory tells: it exists from {@link
 * #prepare} to {@link #close}, after the database was closed.
 *
 * <p>The marker belongs to the opening that locked it, and stays locked until it is removed. A
 * second process (the admin command line while the server runs), or a second opening in the same
 * one, cannot lock it: it reaches the database as it would have anyway (H2's AUTO_SERVER
 * connection, or the same database in the same process) and leaves the marker alone. One that
 * starts while the owner is scanning finds the file taken, with H2's "already in use", and can be
 * run again a moment later.
 */
public final class EmbeddedRecovery implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRecovery.class);

  /**
   * Present, locked, while a process has the database open; left behind, unlocked, by one that did
   * not close it.
   */
  public static final String MARKER = "parley.in-use";

  private static final byte[] IN_USE =
      "a Parley process has this database open\n".getBytes(StandardCharsets.US_ASCII);

  /** The {@link Report#plainVersion} of a file that H2's own reopening could not open at all. */
  public static final long UNOPENABLE = -1;

  /** H2's file for a database named {@code parley}: {@code parley.mv.db}. */
  private static final String H2_FILE_SUFFIX = ".mv.db";

  /** H2's lock file beside it, which a killed process leaves behind. */
  private static final String H2_LOCK_SUFFIX = ".lock.db";

  /**
   * What a recovery pass found.
   *
   * @param plainVersion the newest version H2 would have opened without the scan ({@link
   *     #UNOPENABLE} if it could not open the file)
   * @param recoveredVersion the newest version the scan found, which the database now opens at
   * @param took how long the pass took, H2's own opening for the log included
   */
  public record Report(long plainVersion, long recoveredVersion, Duration took) {

    /** The commits the scan kept that a plain reopen would have dropped. */
    public long versionsRecovered() {
      return plainVersion == UNOPENABLE
          ? recoveredVersion
          : Math.max(0, recoveredVersion - plainVersion);
    }
  }

  private final Path marker;

  /** The marker, open and locked while this opening owns it; null when another does. */
  private final FileChannel owned;

  private final Report report;
  private final AtomicBoolean closed = new AtomicBoolean();

  private EmbeddedRecovery(Path marker, FileChannel owned, Report report) {
    this.marker = marker;
    this.owned = owned;
    this.report = report;
  }

  /**
   * Runs the recovery pass if the last process to open the embedded database of {@code settings}
   * did not close it, then marks the database as in use. Blocks (it reads the whole file when it
   * scans).
   */
  public static EmbeddedRecovery prepare(StoreSettings settings) throws SQLException {
    Path marker = settings.dataDir().resolve(MARKER);
    Path file = settings.dataDir().resolve(StoreSettings.EMBEDDED_NAME + H2_FILE_SUFFIX);
    FileChannel channel;
    try {
      channel =
          FileChannel.open(
              marker, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new SQLException("cannot open " + marker + ": " + e.getMessage(), e);
    }
    try {
      // The owner holds the marker locked for as long as it has the database open, and the
      // operating system lets go of the lock when the owner dies: a marker that can be locked and
      // says "in use" was left by a process that did not close the database. Locking first also
      // keeps openings that start together from taking each other for a crash.
      if (tryLock(channel) == null) {
        channel.close();
        return new EmbeddedRecovery(marker, null, null);
      }
      Report report = null;
      if (channel.size() > 0 && Files.exists(file)) {
        try {
          report = recover(file);
        } catch (MVStoreException e) {
          if (e.getErrorCode() == DataUtils.ERROR_FILE_LOCKED) {
            // Open elsewhere without the marker (an older server, an H2 tool): not ours to scan.
            channel.close();
            return new EmbeddedRecovery(marker, null, null);
          }
          throw new SQLException(
              "the database "
                  + file
                  + " was not closed cleanly and cannot be recovered: "
                  + e.getMessage(),
              e);
        }
        removeStaleLock(settings.dataDir().resolve(StoreSettings.EMBEDDED_NAME + H2_LOCK_SUFFIX));
      }
      channel.truncate(0);
      channel.write(ByteBuffer.wrap(IN_USE), 0);
      return new EmbeddedRecovery(marker, channel, report);
    } catch (IOException | SQLException | RuntimeException e) {
      closeQuietly(channel);
      if (e instanceof SQLException sql) {
        throw sql;
      }
      throw new SQLException("cannot mark " + marker + " in use: " + e.getMessage(), e);
    }
  }

  /** The marker's lock, or null when another process, or another opening here, holds it. */
  private static FileLock tryLock(FileChannel channel) throws IOException {
    try {
      return channel.tryLock();
    } catch (OverlappingFileLockException e) {
      return null;
    }
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      LOG.warn("cannot close the marker: {}", e.getMessage());
    }
  }

  private static Report recover(Path file) {
    long started = System.nanoTime();
    long plainVersion;
    // Read-only: what H2's own reopening finds, for the log; it writes nothing.
    try (MVStore plain = new MVStore.Builder().fileName(file.toString()).readOnly().open()) {
      plainVersion = plain.getCurrentVersion();
    } catch (MVStoreException e) {
      if (e.getErrorCode() == DataUtils.ERROR_FILE_LOCKED) {
        throw e;
      }
      // What H2 alone cannot open, the scan may still recover.
      plainVersion = UNOPENABLE;
    }
    long recoveredVersion;
    try (MVStore scanned =
        new MVStore.Builder()
            .fileName(file.toString())
            .recoveryMode()
            .autoCommitDisabled()
            .open()) {
      recoveredVersion = scanned.getCurrentVersion();
    }
    Report report =
        new Report(plainVersion, recoveredVersion, Duration.ofNanos(System.nanoTime() - started));
    LOG.warn(
        "store was not closed cleanly: scanned {} ({} MB) in {} ms; newest version {},"
            + " H2's own reopening would have used {} ({} versions recovered)",
        file,
        fileSizeMegabytes(file),
        report.took().toMillis(),
        recoveredVersion,
        plainVersion,
        report.versionsRecovered());
    return report;
  }

  /**
   * H2 takes a lock file it finds for a live process's until it has watched it stay unchanged for a
   * while: 3.3 s more before a server killed a moment ago can start again. The scan has just had
   * the store file to itself, which no live process holding the database would have allowed, so the
   * lock file is the dead process's.
   */
  private static void removeStaleLock(Path lock) {
    try {
      if (Files.deleteIfExists(lock)) {
        LOG.info("removed the killed process's lock file {}", lock);
      }
    } catch (IOException e) {
      // H2 then waits it out, as it would have anyway.
      LOG.warn("cannot remove {}: {}", lock, e.getMessage());
    }
  }

  private static long fileSizeMegabytes(Path file) {
    try {
      return Files.size(file) >> 20;
    } catch (IOException e) {
      return -1;
    }
  }

  /** What the recovery pass of this opening found; empty if none was needed. */
  public Optional<Report> report() {
    return Optional.ofNullable(report);
  }

  /** To be called once the database is closed: the next opening needs no scan. */
  @Override
  public void close() {
    // Once only: a second close, after another opening took the marker over, must leave it.
    if (owned == null || !closed.compareAndSet(false, true)) {
      return;
    }
    try {
      // Removed before the lock goes, so that no one finds it unlocked and still saying "in use".
      Files.deleteIfExists(marker);
    } catch (IOException e) {
      // The next start scans the file once more: slower, never wrong.
      LOG.warn("cannot remove {}: {}", marker, e.getMessage());
    }
    closeQuietly(owned);
  }
}
