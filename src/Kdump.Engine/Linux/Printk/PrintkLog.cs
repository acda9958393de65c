using Kdump.Engine.Dump;

namespace Kdump.Engine.Linux.Printk;

/// <summary>
/// The kernel log (dmesg) of a dump, read from the printk ring buffer with nothing but VMCOREINFO and kernel virtual
/// memory: the lockless ring of Linux 5.10+ when VMCOREINFO has SYMBOL(prb), else the log_buf records of 3.5–5.9.
/// </summary>
public static class PrintkLog
{
    /// <summary>Which layout VMCOREINFO describes, or null when it has neither SYMBOL(prb) nor SYMBOL(log_buf).</summary>
    public static PrintkLayoutKind? DetectLayout(VmcoreInfo vmcoreInfo) =>
        vmcoreInfo.ContainsKey("SYMBOL(prb)") ? PrintkLayoutKind.Lockless
        : vmcoreInfo.ContainsKey("SYMBOL(log_buf)") ? PrintkLayoutKind.LogBuf
        : null;

    /// <summary>
    /// True when makedumpfile 1.7.5 and later would print caller ids for this dump (the kernel exports
    /// OFFSET(printk_info.caller_id) or OFFSET(printk_log.caller_id)).
    /// </summary>
    public static bool HasCallerId(VmcoreInfo vmcoreInfo) =>
        vmcoreInfo.ContainsKey("OFFSET(printk_info.caller_id)") || vmcoreInfo.ContainsKey("OFFSET(printk_log.caller_id)");

    /// <summary>
    /// Yields the records oldest first. Problems with single records (unreadable pages, impossible positions or
    /// lengths) go to <paramref name="warnings"/> (or, when it is null, to <see cref="EngineHost.Warning"/>) with an id,
    /// and the walk goes on; it never visits more records than the ring can hold.
    /// </summary>
    /// <exception cref="KdumpException">
    /// At the call: PrintkLogNotFound (no printk symbols in VMCOREINFO), PrintkLayoutMissing / PrintkLayoutInvalid
    /// (offsets missing or impossible). When enumeration starts: PrintkRingTooLarge, PrintkRingInvalid,
    /// PrintkRingUnreadable, or the read function's own error (MemoryFaultException, a translation error) when the
    /// prb or log_buf variable itself cannot be read.
    /// </exception>
    public static IEnumerable<CrashLogRecord> EnumerateRecords(VmcoreInfo vmcoreInfo, ReadVirtualMemory read,
        EngineHost? host = null, CrashLogFormat? format = null, Action<PrintkWarning>? warnings = null)
    {
        ArgumentNullException.ThrowIfNull(vmcoreInfo);
        ArgumentNullException.ThrowIfNull(read);
        var ctx = new PrintkContext(host ?? EngineHost.Null, format ?? CrashLogFormat.Default, warnings);
        if (LocklessLayout.TryCreate(vmcoreInfo) is { } lockless)
            return LocklessRingReader.Read(lockless, read, ctx);
        if (LogBufLayout.TryCreate(vmcoreInfo) is { } logBuf)
            return LogBufReader.Read(logBuf, read, ctx);
        throw new KdumpException("PrintkLogNotFound", KdumpErrorKind.NotFound,
            "VMCOREINFO has neither SYMBOL(prb) (Linux 5.10+) nor SYMBOL(log_buf) (Linux 3.5–5.9); the kernel log cannot be located.",
            vmcoreInfo.OsRelease);
    }
}
