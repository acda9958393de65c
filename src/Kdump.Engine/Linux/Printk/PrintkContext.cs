namespace Kdump.Engine.Linux.Printk;

/// <summary>Limits on what the kernel log reader accepts from a dump before it allocates.</summary>
public static class PrintkLimits
{
    /// <summary>Largest text data ring (or log_buf) read: 256 MiB (the kernel's default is 128 KiB to a few MiB).</summary>
    public const int MaxTextBytes = 1 << 28;
    /// <summary>Most descriptors in the lockless ring (the kernel keeps one per 32 bytes of text).</summary>
    public const int MaxDescriptors = 1 << 23;
    /// <summary>Warnings of one id reported before the rest are only counted.</summary>
    public const int MaxWarningsPerId = 10;
}

/// <summary>What a read of the kernel log reports besides its records, and how it talks to the host.</summary>
internal sealed class PrintkContext
{
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly Action<PrintkWarning>? _sink;
    private readonly EngineHost _host;

    public PrintkContext(EngineHost host, CrashLogFormat format, Action<PrintkWarning>? sink)
    {
        _host = host;
        Format = format;
        _sink = sink;
    }

    public CrashLogFormat Format { get; }
    public CancellationToken Cancellation => _host.Cancellation;
    public void Verbose(string message) => _host.Verbose(message);

    public void Warn(string errorId, string message, object? target)
    {
        _counts.TryGetValue(errorId, out int n);
        _counts[errorId] = ++n;
        if (n > PrintkLimits.MaxWarningsPerId) return;
        var w = new PrintkWarning(errorId, message, target);
        if (_sink is not null) _sink(w);
        else _host.Warning(w.ToString());
    }

    /// <summary>Reports how many warnings of each id were held back after the first few.</summary>
    public void Flush()
    {
        foreach (var (id, n) in _counts)
        {
            if (n <= PrintkLimits.MaxWarningsPerId) continue;
            var w = new PrintkWarning(id, $"{n - PrintkLimits.MaxWarningsPerId} more records had the problem {id} (only the first {PrintkLimits.MaxWarningsPerId} are listed).", n);
            if (_sink is not null) _sink(w);
            else _host.Warning(w.ToString());
        }
        _counts.Clear();
    }
}
