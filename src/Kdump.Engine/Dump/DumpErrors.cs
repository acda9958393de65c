namespace Kdump.Engine.Dump;

/// <summary>The engine errors of the dump layer. Each names the file and the field or address at fault.</summary>
internal static class DumpErrors
{
    public static KdumpException FormatUnknown(string path, string detail) =>
        new("VmcoreFormatUnknown", KdumpErrorKind.InvalidData, $"'{path}' is not a crash dump: {detail}.", path);

    public static KdumpException FormatUnsupported(string path, string detail) =>
        new("VmcoreFormatUnsupported", KdumpErrorKind.NotSupported, $"'{path}': {detail}.", path);

    public static KdumpException Empty(string path) =>
        new("VmcoreEmpty", KdumpErrorKind.InvalidData, $"'{path}' is empty (0 bytes): not a crash dump.", path);

    public static KdumpException Truncated(string path, string what, long offset, long length) =>
        new("VmcoreTruncated", KdumpErrorKind.InvalidData,
            $"'{path}' is truncated: the {what} ({length} bytes at offset 0x{offset:x}) lies past the end of the file.", path);

    /// <summary>A header field contradicts the file or the format.</summary>
    public static KdumpException Corrupt(string path, string field, string detail) =>
        new("VmcoreCorrupt", KdumpErrorKind.InvalidData, $"'{path}' is corrupt: field '{field}' {detail}.", path);

    public static KdumpException Limit(string path, string field, string detail) =>
        new("VmcoreLimitExceeded", KdumpErrorKind.LimitExceeded, $"'{path}': field '{field}' {detail}; refusing to allocate for it.", path);

    public static KdumpException SplitIncomplete(string paths, string detail) =>
        new("VmcoreSplitIncomplete", KdumpErrorKind.InvalidData, $"Split dump {paths} is incomplete: {detail}.", paths);

    public static KdumpException SplitMismatch(string path, string detail) =>
        new("VmcoreSplitMismatch", KdumpErrorKind.Mismatch, $"'{path}' does not belong to the split set: {detail}.", path);
}
