namespace Kdump.Engine;

/// <summary>What kind of failure an engine error is; the PowerShell layer maps it to an ErrorCategory.</summary>
public enum KdumpErrorKind
{
    InvalidData,        // the file or kernel structure is malformed
    NotFound,           // symbol, type, task, file not found
    ReadError,          // I/O failure or memory not readable
    InvalidArgument,    // caller gave a bad value
    NotSupported,       // a format/feature we do not handle
    Mismatch,           // vmlinux does not match dump
    Unavailable,        // data was filtered out / lost
    LimitExceeded,      // a safety bound was hit (cycle, size limit)
    PermissionDenied,
    WriteError,
}

/// <summary>
/// The one exception type the engine throws on purpose. <see cref="ErrorId"/> is a PascalCase
/// &lt;Noun&gt;&lt;Condition&gt; id (VmcoreFormatUnknown, PageExcluded ...); <see cref="Target"/> is the offending value.
/// </summary>
public class KdumpException : Exception
{
    public string ErrorId { get; }
    public KdumpErrorKind Kind { get; }
    public object? Target { get; }

    public KdumpException(string errorId, KdumpErrorKind kind, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }
}

/// <summary>Host services the engine may use, passed in as plain delegates (no PowerShell types).</summary>
public sealed class EngineHost
{
    public static readonly EngineHost Null = new();
    public Action<string> Warning { get; init; } = _ => { };
    public Action<string> Verbose { get; init; } = _ => { };
    /// <summary>activity, status, percent (0-100, or -1 when unknown).</summary>
    public Action<string, string, int> Progress { get; init; } = (_, _, _) => { };
    public CancellationToken Cancellation { get; init; }
    /// <summary>ShouldProcess(target, action) for anything that changes state.</summary>
    public Func<string, string, bool> ShouldProcess { get; init; } = (_, _) => true;
}
