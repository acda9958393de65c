namespace Kdump.Engine.Linux.Printk;

/// <summary>Which kernel log layout a record came from.</summary>
public enum PrintkLayoutKind
{
    /// <summary>The lockless ring buffer of Linux 5.10 and later (struct printk_ringbuffer, SYMBOL(prb)).</summary>
    Lockless,
    /// <summary>The variable-length record buffer of Linux 3.5 to 5.9 (struct printk_log in log_buf).</summary>
    LogBuf,
}

/// <summary>The device a record was logged for (dev_printk): SUBSYSTEM= and DEVICE= of the record's dictionary.</summary>
public sealed class CrashLogDeviceInfo
{
    public CrashLogDeviceInfo(string subsystem, string device)
    {
        Subsystem = subsystem;
        Device = device;
    }

    /// <summary>The bus or class name, e.g. "pci" or "virtio".</summary>
    public string Subsystem { get; }
    /// <summary>The device id as printk encodes it, e.g. "+pci:0000:00:02.0", "b8:0", "c4:64", "n2".</summary>
    public string Device { get; }

    public override string ToString() => $"SUBSYSTEM={Subsystem} DEVICE={Device}";
}

/// <summary>
/// One record of the kernel log (printk ring buffer) of a dump, as crash's <c>log</c> and
/// <c>makedumpfile --dump-dmesg</c> read it.
/// </summary>
public sealed class CrashLogRecord : Kdump.Engine.Model.DumpRecord
{
    private readonly byte[] _text;
    private string? _line;

    internal CrashLogRecord(PrintkLayoutKind layout, ulong sequence, ulong timestampNanoseconds, int level, int facility,
        int flags, uint? callerId, byte[] text, CrashLogDeviceInfo? deviceInfo, CrashLogFormat format)
    {
        Layout = layout;
        Sequence = sequence;
        TimestampNanoseconds = timestampNanoseconds;
        Level = level;
        Facility = facility;
        Flags = flags;
        CallerIdValue = callerId;
        _text = text;
        DeviceInfo = deviceInfo;
        Format = format;
    }

    /// <summary>Which ring buffer layout the record came from.</summary>
    public PrintkLayoutKind Layout { get; }

    /// <summary>
    /// The record's sequence number: printk_info.seq in the lockless ring (5.10+); in the older log_buf layout, which
    /// keeps no sequence in its records, the position counted from the first record still in the buffer (0, 1, ...).
    /// </summary>
    public ulong Sequence { get; }

    /// <summary>Time since boot when the record was stored (local_clock), in nanoseconds.</summary>
    public ulong TimestampNanoseconds { get; }

    /// <summary>Time since boot when the record was stored (100 ns resolution).</summary>
    public TimeSpan Timestamp => TimeSpan.FromTicks((long)(TimestampNanoseconds / 100));

    /// <summary>The timestamp as the line prints it, seconds and microseconds ("12.345678").</summary>
    public string TimestampText => CrashLogFormatter.FormatTimestamp(TimestampNanoseconds).Trim('[', ']', ' ');

    /// <summary>The syslog level 0 (emerg) to 7 (debug).</summary>
    public int Level { get; }

    /// <summary>The level's name as dmesg prints it: emerg, alert, crit, err, warn, notice, info, debug.</summary>
    public string LevelName => CrashLogLevel.NameOf(Level);

    /// <summary>The syslog facility number (0 = kern; user-space writes to /dev/kmsg get 1 = user).</summary>
    public int Facility { get; }

    /// <summary>The facility's name as dmesg prints it (kern, user, mail, daemon ...).</summary>
    public string FacilityName => CrashLogLevel.FacilityNameOf(Facility);

    /// <summary>The record's internal flags (printk LOG_NEWLINE = 2, LOG_CONT = 8).</summary>
    public int Flags { get; }

    /// <summary>The raw caller id (bit 31 set: a CPU number; clear: a thread id), when the kernel records it.</summary>
    public uint? CallerIdValue { get; }

    /// <summary>Who logged the record, as the kernel's CONFIG_PRINTK_CALLER prints it: "T123" (thread 123) or "C1" (CPU 1 in interrupt context).</summary>
    public string? CallerId => CallerIdValue is { } c ? CrashLogFormatter.FormatCallerId(c) : null;

    /// <summary>The message text (UTF-8; invalid bytes become U+FFFD). A record may hold several lines.</summary>
    public string Text => System.Text.Encoding.UTF8.GetString(_text);

    /// <summary>The message's bytes exactly as stored in the ring buffer.</summary>
    public ReadOnlyMemory<byte> TextBytes => _text;

    /// <summary>The device of a dev_printk record, or null.</summary>
    public CrashLogDeviceInfo? DeviceInfo { get; }

    /// <summary>How <see cref="ToString"/> prints the record.</summary>
    internal CrashLogFormat Format { get; }

    /// <summary>
    /// The record exactly as <c>makedumpfile --dump-dmesg</c> prints it, without the final newline: <c>[%5lu.%06lu] </c>
    /// then the text; a newline inside the text continues on a new line indented to the text column; bytes that are
    /// neither printable nor white space are written as \xNN.
    /// </summary>
    public override string ToString() => _line ??= CrashLogFormatter.Format(TimestampNanoseconds, Format.IncludeCallerId ? CallerIdValue : null, _text);
}

/// <summary>How records print (which makedumpfile's output they reproduce).</summary>
public sealed class CrashLogFormat
{
    /// <summary>makedumpfile 1.7.2 and crash's plain <c>log</c>: the timestamp, then the text.</summary>
    public static readonly CrashLogFormat Default = new(false);

    /// <summary>makedumpfile 1.7.6 (checked; the change came after 1.7.2) on kernels that export OFFSET(printk_info.caller_id): the caller id after the timestamp.</summary>
    public static readonly CrashLogFormat WithCallerId = new(true);

    private CrashLogFormat(bool includeCallerId) => IncludeCallerId = includeCallerId;

    /// <summary>Print "[  T123] " after the timestamp (when the record has a caller id).</summary>
    public bool IncludeCallerId { get; }
}
